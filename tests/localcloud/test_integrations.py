"""Step Functions and EventBridge through the local cloud: real handlers, Batch .sync, events, schedules."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from localcloud.cloud import LocalCloud
from tests.support.integrations import Setup, batch_task, probe_calls, wait_for


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    with LocalCloud() as cloud:
        yield Setup(cloud, tmp_path_factory.mktemp("probe"))


def test_lambda_invoke_runs_the_real_handler_synchronously_and_asynchronously(setup: Setup) -> None:
    lam = setup.cloud.client("lambda")
    # WHEN invoked RequestResponse: the handler's result is the payload
    ok = lam.invoke(FunctionName=setup.function, Payload=json.dumps({"n": 21}))
    assert ok["StatusCode"] == 200
    assert "FunctionError" not in ok
    assert json.loads(ok["Payload"].read()) == {"doubled": 42, "greeting": "hello"}
    # WHEN the handler raises: Lambda's error document and FunctionError "Unhandled"
    failed = lam.invoke(FunctionName=setup.function, Payload=json.dumps({"fail": True}), LogType="Tail")
    assert failed["FunctionError"] == "Unhandled"
    error = json.loads(failed["Payload"].read())
    assert (error["errorType"], error["errorMessage"]) == ("ValueError", "asked to fail")
    assert error["stackTrace"]
    # WHEN invoked as an Event: 202 at once, the handler runs later
    marker = uuid.uuid4().hex
    assert (
        lam.invoke(FunctionName=setup.function, InvocationType="Event", Payload=json.dumps({"m": marker}))[
            "StatusCode"
        ]
        == 202
    )
    assert wait_for(lambda: probe_calls(setup, marker)) == [{"m": marker}]


def test_stack_function_runs_its_own_handler_through_invoke(setup: Setup) -> None:
    # GIVEN the stack's start-run function; WHEN it gets something that is not a run trigger
    name = next(n for n in setup.cloud.deployment.function_code if "StartRun" in n)
    response = setup.cloud.client("lambda").invoke(FunctionName=name, Payload=b'{"source": "nobody"}')
    # THEN its own validation rejected it, as the deployed handler would
    assert response["FunctionError"] == "Unhandled"
    assert json.loads(response["Payload"].read())["errorType"] == "InvalidRunRequest"


def test_state_machine_runs_lambda_batch_sync_and_put_events(setup: Setup) -> None:
    # GIVEN rules: the machine's own event and its status changes -> SQS
    setup.rule_to_events_queue("sfn-done", {"source": ["localcloud.test"], "detail-type": ["sfn done"]})
    lam_task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke"}
    definition = {
        "StartAt": "Double",
        "States": {
            "Double": {
                **lam_task,
                "Parameters": {"FunctionName": setup.function_arn, "Payload": {"n.$": "$.n"}},
                "ResultSelector": {"doubled.$": "$.Payload.doubled", "status.$": "$.StatusCode"},
                "ResultPath": "$.lambda",
                "Next": "Ok",
            },
            "Ok": batch_task(
                setup,
                "exit 0",
                ResultSelector={
                    "status.$": "$.Status",
                    "exit.$": "$.Container.ExitCode",
                    "env.$": "$.Container.Environment",
                },
                ResultPath="$.ok",
                Next="Bad",
            ),
            "Bad": batch_task(
                setup,
                "exit 1",
                Catch=[{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.bad", "Next": "Announce"}],
                Next="Announce",
            ),
            "Announce": {
                "Type": "Task",
                "Resource": "arn:aws:states:::events:putEvents",
                "Parameters": {
                    "Entries": [
                        {
                            "Source": "localcloud.test",
                            "DetailType": "sfn done",
                            "Detail": {"doubled.$": "$.lambda.doubled", "run.$": "$$.Execution.Name"},
                        }
                    ]
                },
                "ResultPath": "$.announced",
                "Next": "Fail",
            },
            "Fail": {
                **lam_task,
                "Parameters": {"FunctionName": setup.function, "Payload": {"fail": True}},
                "Catch": [{"ErrorEquals": ["ValueError"], "ResultPath": "$.lambda_error", "Next": "Done"}],
                "Next": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    }
    machine = setup.machine("integrations", definition)
    setup.rule_to_events_queue(
        "sfn-status",
        {"source": ["aws.states"], "detail-type": ["Step Functions Execution Status Change"],
         "detail": {"stateMachineArn": [machine]}},
    )  # fmt: skip
    # WHEN it runs
    execution = setup.execute(machine, {"n": 4})
    # THEN every task did what AWS's integration does
    assert execution["status"] == "SUCCEEDED", execution
    output = json.loads(execution["output"])
    assert output["lambda"] == {"doubled": 8, "status": 200}
    assert output["ok"]["status"] == "SUCCEEDED"
    assert output["ok"]["exit"] == 0
    assert {"Name": "FROM_SFN", "Value": "yes"} in output["ok"]["env"]
    assert {"Name": "MANAGED_BY_AWS", "Value": "STARTED_BY_STEP_FUNCTIONS"} in output["ok"]["env"]
    assert output["bad"]["Error"] == "States.TaskFailed"
    bad_job = json.loads(output["bad"]["Cause"])
    assert (bad_job["Status"], bad_job["Container"]["ExitCode"]) == ("FAILED", 1)
    assert output["announced"]["FailedEntryCount"] == 0
    assert output["lambda_error"]["Error"] == "ValueError"
    assert json.loads(output["lambda_error"]["Cause"])["errorMessage"] == "asked to fail"
    # THEN putEvents reached the rule's SQS target, with the execution in its resources
    name = execution["executionArn"].rsplit(":", 1)[1]
    announced = setup.events.wait(lambda e: e.get("detail-type") == "sfn done" and e["detail"]["run"] == name)
    assert announced["detail"] == {"doubled": 8, "run": name}
    assert execution["executionArn"] in announced["resources"]
    # THEN status changes RUNNING and SUCCEEDED reached their rule
    done = setup.events.wait(
        lambda e: e.get("source") == "aws.states" and e["detail"]["status"] == "SUCCEEDED"
        and e["detail"]["executionArn"] == execution["executionArn"]
    )  # fmt: skip
    assert json.loads(done["detail"]["output"]) == output
    assert json.loads(done["detail"]["input"]) == {"n": 4}
    assert done["detail"]["stopDate"] >= done["detail"]["startDate"]
    assert setup.events.wait(
        lambda e: e.get("source") == "aws.states" and e["detail"]["status"] == "RUNNING"
        and e["detail"]["executionArn"] == execution["executionArn"]
    )  # fmt: skip


def test_rule_with_lambda_target_invokes_the_handler_with_the_event_or_the_target_input(setup: Setup) -> None:
    events = setup.cloud.client("events")
    marker = uuid.uuid4().hex
    events.put_rule(Name="to-lambda", EventPattern=json.dumps({"source": ["localcloud.custom"]}))
    events.put_targets(
        Rule="to-lambda",
        Targets=[
            {"Id": "event", "Arn": setup.function_arn},
            {"Id": "input", "Arn": setup.function_arn, "Input": json.dumps({"constant": marker})},
        ],
    )
    # WHEN a custom event is put
    events.put_events(
        Entries=[{"Source": "localcloud.custom", "DetailType": "poke", "Detail": json.dumps({"m": marker})}]
    )
    # THEN one invocation got the whole event, the other the target's Input instead
    calls = wait_for(lambda: len(c := probe_calls(setup, marker)) == 2 and c)
    whole = next(c for c in calls if "detail" in c)
    assert {k: whole[k] for k in ("source", "detail-type", "detail")} == {
        "source": "localcloud.custom",
        "detail-type": "poke",
        "detail": {"m": marker},
    }
    assert whole["time"].endswith("Z")
    assert {"constant": marker} in calls


def test_s3_object_created_reaches_a_lambda_target_with_a_distinct_id(setup: Setup) -> None:
    s3, events = setup.cloud.client("s3"), setup.cloud.client("events")
    s3.create_bucket(Bucket="uploads")
    s3.put_bucket_notification_configuration(
        Bucket="uploads", NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    pattern = {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": ["uploads"]}},
    }
    events.put_rule(Name="uploads", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="uploads", Targets=[{"Id": "fn", "Arn": setup.function_arn}])
    keys = [f"runs/{uuid.uuid4().hex}.json" for _ in range(2)]
    for key in keys:
        s3.put_object(Bucket="uploads", Key=key, Body=b"{}")
    calls = wait_for(lambda: len(c := [e for k in keys for e in probe_calls(setup, k)]) == 2 and c)
    assert sorted(c["detail"]["object"]["key"] for c in calls) == sorted(keys)
    assert calls[0]["id"] != calls[1]["id"]


def test_rule_with_state_machine_target_starts_an_execution_with_the_event(setup: Setup) -> None:
    machine = setup.machine("echo", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    events, sfn = setup.cloud.client("events"), setup.cloud.client("stepfunctions")
    events.put_rule(Name="to-sfn", EventPattern=json.dumps({"source": ["localcloud.run"]}))
    events.put_targets(Rule="to-sfn", Targets=[{"Id": "sfn", "Arn": machine, "RoleArn": setup.role}])
    events.put_events(Entries=[{"Source": "localcloud.run", "DetailType": "go", "Detail": '{"run": "r1"}'}])
    listed = wait_for(lambda: sfn.list_executions(stateMachineArn=machine)["executions"])
    described = sfn.describe_execution(executionArn=listed[0]["executionArn"])
    assert json.loads(described["input"])["detail"] == {"run": "r1"}
    assert json.loads(described["input"])["source"] == "localcloud.run"


def test_scheduled_rule_fires_with_its_target_input(setup: Setup) -> None:
    events = setup.cloud.client("events")
    marker = uuid.uuid4().hex
    events.put_rule(Name="nightly", ScheduleExpression="rate(1 day)")
    events.put_targets(
        Rule="nightly",
        Targets=[
            {"Id": "fn", "Arn": setup.function_arn, "Input": json.dumps({"n": 5, "m": marker})},
            {"Id": "sqs", "Arn": setup.events.arn},
        ],
    )
    # GIVEN a put event: a schedule-only rule must not match it
    events.put_events(Entries=[{"Source": "localcloud.other", "DetailType": "x", "Detail": "{}"}])
    # WHEN the schedule fires
    fired = setup.cloud.integrations.fire_schedule("nightly")
    # THEN the Lambda target got its Input, the SQS target the scheduled event
    assert wait_for(lambda: probe_calls(setup, marker)) == [{"n": 5, "m": marker}]
    scheduled = setup.events.wait(lambda e: e.get("id") == fired["id"])
    assert scheduled["detail-type"] == "Scheduled Event"
    assert scheduled["source"] == "aws.events"
    assert scheduled["resources"] == [events.describe_rule(Name="nightly")["Arn"]]
    assert not [e for e in setup.events.drain() if e.get("source") == "localcloud.other"]


def test_stop_execution_terminates_the_sync_job_and_puts_an_aborted_event(setup: Setup) -> None:
    job_name = f"long-{uuid.uuid4().hex[:8]}"
    task = batch_task(setup, "sleep 300", End=True)
    task["Parameters"]["JobName"] = job_name
    machine = setup.machine("stoppable", {"StartAt": "Long", "States": {"Long": task}})
    setup.rule_to_events_queue(
        "sfn-aborted", {"source": ["aws.states"], "detail": {"stateMachineArn": [machine]}}
    )
    sfn, batch = setup.cloud.client("stepfunctions"), setup.cloud.client("batch")
    queue = setup.cloud.deployment.infra_outputs["JobQueueArn"]
    arn = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    job = wait_for(
        lambda: next(
            (j for j in batch.list_jobs(jobQueue=queue, jobStatus="RUNNING")["jobSummaryList"]
             if j["jobName"] == job_name), None,
        )
    )  # fmt: skip
    # WHEN the execution is stopped
    sfn.stop_execution(executionArn=arn)
    # THEN an ABORTED status change reaches the rule, and the job is terminated
    aborted = setup.events.wait(
        lambda e: e.get("source") == "aws.states" and e["detail"]["executionArn"] == arn
        and e["detail"]["status"] == "ABORTED"
    )  # fmt: skip
    assert aborted["detail-type"] == "Step Functions Execution Status Change"
    assert aborted["resources"] == [arn]
    assert aborted["detail"]["stateMachineArn"] == machine
    assert aborted["detail"]["output"] is None
    assert sfn.describe_execution(executionArn=arn)["status"] == "ABORTED"
    stopped = wait_for(
        lambda: (d := batch.describe_jobs(jobs=[job["jobId"]])["jobs"][0])["status"] == "FAILED" and d
    )
    assert stopped["statusReason"] == "Step Functions execution stopped"


def test_execution_timeout_puts_a_timed_out_event(setup: Setup) -> None:
    definition = {
        "TimeoutSeconds": 1,
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", "Seconds": 30, "End": True}},
    }
    machine = setup.machine("short", definition)
    setup.rule_to_events_queue(
        "sfn-timeout", {"source": ["aws.states"], "detail": {"stateMachineArn": [machine]}}
    )
    execution = setup.execute(machine, {}, timeout=30)
    assert execution["status"] == "TIMED_OUT"
    event = setup.events.wait(
        lambda e: e.get("source") == "aws.states" and e["detail"]["executionArn"] == execution["executionArn"]
        and e["detail"]["status"] == "TIMED_OUT"
    )  # fmt: skip
    assert event["detail"]["name"] == execution["executionArn"].rsplit(":", 1)[1]


def test_sync_task_rides_out_a_failed_describe_jobs(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN moto's DescribeJobs answers 500 (an unhandled error, no request id) to the first two polls
    from moto.batch.models import BatchBackend

    describe_jobs = BatchBackend.describe_jobs
    failures: list[list[str]] = []

    def flaky(self: BatchBackend, jobs: list[str] | None) -> Any:
        if len(failures) < 2:
            failures.append(list(jobs or []))
            raise RuntimeError("dictionary changed size during iteration")
        return describe_jobs(self, jobs)

    monkeypatch.setattr(BatchBackend, "describe_jobs", flaky)
    machine = setup.machine(
        "flaky-describe", {"StartAt": "Job", "States": {"Job": batch_task(setup, "exit 0", End=True)}}
    )
    # WHEN the machine runs a batch:submitJob.sync task
    execution = setup.execute(machine, {})
    # THEN the task kept polling, as Step Functions does, and finished with the job
    assert len(failures) == 2
    assert execution["status"] == "SUCCEEDED", execution
    assert json.loads(execution["output"])["Status"] == "SUCCEEDED"
