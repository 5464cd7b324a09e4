"""Run triggers and the run lifecycle against moto: one run per trigger, bad requests recorded."""

import io
import json

import boto3
import pytest

from sls_contract.job_store import JobStore
from sls_contract.run_record import RunStatus
from sls_contract.run_request import InvalidRunRequest, parse_run_request, snakemake_argv
from sls_contract.run_store import RunStore
from sls_contract.runs import CleanupIncomplete, Lifecycle, RunStarter, dispatch, failure_cause
from tests.support.aws_calls import fail_first
from tests.support.batch_clients import batch_client_without_terminate_jobs
from tests.support.handlers import load_handler, unload_handler
from tests.support.specs import minimal_spec, model

REQUEST = {"storage_prefix": "s3://data/run", "targets": ["all"], "config": {"samples": 3}, "jobs": 50}
BUCKET = "runs-bucket"


@pytest.fixture
def machine(aws):
    sfn = boto3.client("stepfunctions")
    role = "arn:aws:iam::123456789012:role/sfn"
    definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
    return sfn.create_state_machine(name="coordinator", definition=definition, roleArn=role)[
        "stateMachineArn"
    ]


@pytest.fixture
def starter(jobs_table, machine):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    return RunStarter(
        s3, boto3.client("stepfunctions"), RunStore(boto3.client("dynamodb"), jobs_table), machine
    )


def _upload_event(key, body, etag="e1"):
    boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=body)
    return {
        "source": "aws.s3",
        "detail-type": "Object Created",
        "id": "evt",
        "detail": {"bucket": {"name": BUCKET}, "object": {"key": key, "etag": etag, "version-id": "null"}},
    }


def test_an_upload_starts_one_run_and_its_duplicate_none(starter):
    event = _upload_event("run-requests/a.yaml", "storage_prefix: s3://data/run\njobs: 5\n")
    first = starter.handle(event)
    second = starter.handle(event)
    assert first.started and first.run_id.startswith("upload-")
    assert (second.started, second.run_id) == (False, first.run_id)
    executions = boto3.client("stepfunctions").list_executions(stateMachineArn=starter.state_machine_arn)
    assert [e["name"] for e in executions["executions"]] == [first.run_id]
    execution_input = json.loads(
        boto3.client("stepfunctions").describe_execution(executionArn=first.execution_arn)["input"]
    )
    assert execution_input["request"]["jobs"] == 5 and execution_input["trigger"].endswith("a.yaml")
    assert starter.runs.get(first.run_id).status == RunStatus.REQUESTED


def test_a_new_upload_of_the_same_key_is_a_new_run(starter):
    first = starter.handle(_upload_event("run-requests/a.json", json.dumps(REQUEST), etag="e1"))
    second = starter.handle(_upload_event("run-requests/a.json", json.dumps(REQUEST), etag="e2"))
    assert first.run_id != second.run_id and second.started


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{not json: [", "neither JSON nor YAML"),
        ("- a list", "must be a mapping"),
        (json.dumps({"jobs": 5}), "storage_prefix"),
        (json.dumps({**REQUEST, "version": 2}), "version 2 is not supported"),
        (json.dumps({**REQUEST, "snakemake_args": ["--jobs", "9"]}), "set by the coordinator"),
        (json.dumps({**REQUEST, "workflow_source": "s3://b/k.rar"}), "workflow_source"),
        # inputs that crashed the start function before they were refused
        (b"\xc3\x28{\x80 not utf-8", "neither JSON nor YAML"),
        ("[" * 100_000, "nested too deeply"),
        (json.dumps({**REQUEST, "config": {"big": "x" * 450_000}}), "is over 128 KiB, the most"),
        ("x" * 50_000_000, "is over 128 KiB, the most"),  # read no further than the limit
    ],
)
def test_a_bad_request_file_becomes_a_failed_run_with_the_reason(starter, body, reason):
    outcome = starter.handle(_upload_event("run-requests/bad.json", body))
    assert not outcome.started and reason in outcome.reason
    run = starter.runs.get(outcome.run_id)
    assert run.status == RunStatus.FAILED and reason in run.cause
    assert (
        boto3.client("stepfunctions").list_executions(stateMachineArn=starter.state_machine_arn)["executions"]
        == []
    )


def test_a_run_requested_event_and_the_schedule(starter):
    event = {"source": "aws-basic-batch-sls", "detail-type": "Run Requested", "id": "e-1", "detail": REQUEST}
    assert starter.handle(event).started
    assert not starter.handle(event).started  # the same event delivered twice
    named = starter.handle({**event, "id": "e-2", "detail": {**REQUEST, "run_id": "nightly-1"}})
    assert named.run_id == "nightly-1"
    fired = {"trigger": "schedule", "time": "2026-11-22T00:00:00Z", "request": {**REQUEST, "run_id": "fixed"}}
    scheduled = starter.handle(fired)
    assert scheduled.started and scheduled.run_id.startswith("schedule-")
    assert starter.runs.get(scheduled.run_id).trigger == "schedule"


def test_an_unrecognised_event_is_an_error_not_a_silent_drop(starter):
    with pytest.raises(InvalidRunRequest, match="not a run trigger"):
        starter.handle({"source": "somewhere", "detail-type": "Other"})


@pytest.fixture
def lifecycle(jobs_table, batch_env, tmp_path):
    dynamodb = boto3.client("dynamodb")
    # moto in-process has no bulk TerminateJobs: a client from a botocore without it takes the per-job path
    return Lifecycle(
        RunStore(dynamodb, jobs_table), JobStore(dynamodb, jobs_table), batch_client_without_terminate_jobs(tmp_path),
        boto3.client("events"), "my-stack",
    )  # fmt: skip


def test_register_gives_the_coordinator_job_its_command_and_environment(lifecycle):
    result = dispatch(
        lifecycle,
        {
            "action": "register",
            "execution_arn": "arn:x:execution:m:r-1",
            "input": {"run_id": "r-1", "request": REQUEST},
        },
    )
    env = {e["Name"]: e["Value"] for e in result["environment"]}
    assert result["command"][-1] == "snakemake_executor_plugin_aws_basic_batch_sls.coordinate"
    assert env["SLS_RUN_ID"] == "r-1" and env["SLS_JOB_ID"] == "coordinator"
    assert env["SNAKEMAKE_AWS_BASIC_BATCH_SLS_STACK"] == "my-stack"
    assert json.loads(env["SLS_RUN_REQUEST"])["storage_prefix"] == REQUEST["storage_prefix"]
    # the stack's tag, which the state machine's SubmitJob and TerminateJob permissions require
    assert result["tags"]["aws-basic-batch-sls:stack"] == "my-stack"
    assert result["tags"]["snakemake:run-id"] == "r-1"
    run = lifecycle.runs.get("r-1")
    assert (run.status, run.execution_arn) == (RunStatus.RUNNING, "arn:x:execution:m:r-1")


def _submitted_job(lifecycle, batch_env, run_id):
    """A job of the run, claimed, submitted to (moto) Batch and recorded with its Batch job id."""
    spec = model(minimal_spec(run_id=run_id))
    lifecycle.jobs.claim(spec, "t", 120)
    job = boto3.client("batch").submit_job(
        jobName="j", jobQueue=batch_env.job_queue_arn, jobDefinition=batch_env.job_definition_arn
    )
    lifecycle.jobs.mark_submitted(spec, job["jobId"], job["jobArn"])
    return job["jobId"]


def test_failure_terminates_the_runs_jobs_and_records_the_cause(lifecycle, batch_env):
    _submitted_job(lifecycle, batch_env, "r-2")
    queued = model(minimal_spec(run_id="r-2", job_id="f" * 32))
    lifecycle.jobs.claim(queued, "t", 120)
    lifecycle.runs.start("r-2", "arn:exec", "test", REQUEST)
    error = {
        "Error": "States.TaskFailed",
        "Cause": json.dumps(
            {"statusReason": "Essential container in task exited", "container": {"exitCode": 1}}
        ),
    }
    result = dispatch(lifecycle, {"action": "failed", "input": {"run_id": "r-2"}, "error": error})
    assert result["terminated"] == 1
    run = lifecycle.runs.get("r-2")
    assert run.status == RunStatus.FAILED
    assert run.cause == "States.TaskFailed: Essential container in task exited (exit code 1)"
    assert lifecycle.jobs.get_records("r-2", [queued.job_id])[queued.job_id].status == "FAILED"
    # terminal is final: a late success does not overwrite it
    lifecycle.succeeded("r-2", None)
    assert lifecycle.runs.get("r-2").status == RunStatus.FAILED


def _announcements():
    sqs, events = boto3.client("sqs"), boto3.client("events")
    queue = sqs.create_queue(QueueName="announcements")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="runs", EventPattern=json.dumps({"source": ["aws-basic-batch-sls"]}))
    events.put_targets(Rule="runs", Targets=[{"Id": "q", "Arn": arn}])
    return lambda: [
        json.loads(m["Body"])
        for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    ]


def test_an_aborted_execution_is_cleaned_up_and_announced(lifecycle):
    received = _announcements()
    lifecycle.runs.start("r-3", "arn:exec:r-3", "test", REQUEST)
    change = {
        "detail-type": "Step Functions Execution Status Change",
        "detail": {"name": "r-3", "status": "ABORTED", "executionArn": "arn:exec:r-3"},
    }
    dispatch(lifecycle, change)
    assert lifecycle.runs.get("r-3").status == RunStatus.ABORTED
    assert [(e["detail-type"], e["detail"]["run_id"]) for e in received()] == [("Run Failed", "r-3")]


def test_the_coordinator_command_line():
    request = parse_run_request({**REQUEST, "snakemake_args": ["--keep-going"], "snakefile": "wf/Snakefile"})
    assert snakemake_argv(request) == [
        "--executor", "aws-basic-batch-sls", "--snakefile", "wf/Snakefile", "--jobs", "50",
        "--default-storage-provider", "s3", "--default-storage-prefix", "s3://data/run",
        "--config", "samples=3", "--keep-going", "all",
    ]  # fmt: skip


def test_failure_cause_of_a_lambda_error():
    cause = json.dumps(
        {"errorMessage": "invalid run request: storage_prefix: Field required", "errorType": "X"}
    )
    assert failure_cause({"Error": "InvalidRunRequest", "Cause": cause}) == (
        "InvalidRunRequest: invalid run request: storage_prefix: Field required"
    )


def test_a_failed_execution_that_no_catch_saw_is_cleaned_up_and_announced(lifecycle, batch_env):
    # GIVEN a running run with a submitted job, whose execution failed outside the machine's Catch
    received = _announcements()
    _submitted_job(lifecycle, batch_env, "r-4")
    lifecycle.runs.start("r-4", "arn:exec:r-4", "test", REQUEST)
    change = {
        "detail-type": "Step Functions Execution Status Change",
        "detail": {
            "name": "r-4", "status": "FAILED", "executionArn": "arn:exec:r-4",
            "error": "States.Runtime", "cause": "An error occurred while executing the state 'RunCoordinator'",
        },
    }  # fmt: skip
    # WHEN the status change reaches the lifecycle function
    result = dispatch(lifecycle, change)
    # THEN the job is terminated, the run FAILED with Step Functions' error, and announced once
    assert (result["recorded"], result["terminated"]) == (True, 1)
    run = lifecycle.runs.get("r-4")
    assert run.status == RunStatus.FAILED
    assert run.cause == (
        "execution failed: States.Runtime: An error occurred while executing the state 'RunCoordinator'"
    )
    assert [(e["detail-type"], e["detail"]["run_id"]) for e in received()] == [("Run Failed", "r-4")]


def test_a_failed_execution_after_the_machines_own_clean_up_is_not_announced_twice(lifecycle):
    # GIVEN a run the machine's Catch already recorded FAILED
    received = _announcements()
    lifecycle.runs.start("r-5", "arn:exec:r-5", "test", REQUEST)
    lifecycle.failed("r-5", "States.TaskFailed: exit code 1")
    change = {
        "detail-type": "Step Functions Execution Status Change",
        "detail": {"name": "r-5", "status": "FAILED", "executionArn": "arn:exec:r-5"},
    }
    # WHEN the execution's FAILED status change arrives
    result = dispatch(lifecycle, change)
    # THEN the first cause stands and no second Run Failed event is put
    assert result["recorded"] is False
    assert lifecycle.runs.get("r-5").cause == "States.TaskFailed: exit code 1"
    assert received() == []


def test_jobs_batch_would_not_terminate_fail_the_clean_up_after_recording_and_announcing(
    lifecycle, batch_env
):
    # GIVEN a run with a job whose TerminateJob is throttled
    received = _announcements()
    lifecycle.runs.start("r-4", "arn:exec:r-4", "test", REQUEST)
    job_id = _submitted_job(lifecycle, batch_env, "r-4")
    throttled = fail_first(lifecycle.batch, "TerminateJob", 100, "TooManyRequestsException", "slow down", 429)
    change = {
        "detail-type": "Step Functions Execution Status Change",
        "detail": {"name": "r-4", "status": "TIMED_OUT", "executionArn": "arn:exec:r-4"},
    }

    # WHEN the status-change clean-up runs, THEN it fails naming the job (so Lambda retries it, then DLQ)
    with pytest.raises(CleanupIncomplete, match=rf"run r-4: 1 job\(s\) not terminated: {job_id}: "):
        dispatch(lifecycle, change)
    assert throttled[0] >= 1
    # ... after the run was recorded and announced, so a retry only terminates what is left
    assert lifecycle.runs.get("r-4").status == RunStatus.FAILED
    assert [(e["detail-type"], e["detail"]["not_terminated"][0].split(":")[0]) for e in received()] == [
        ("Run Failed", job_id)
    ]
    # and the state machine's clean-up step fails the same way (its Retry runs it again)
    with pytest.raises(CleanupIncomplete):
        dispatch(lifecycle, {"action": "failed", "input": {"run_id": "r-4"}, "error": None})


def test_an_invalid_request_naming_an_existing_run_cannot_change_it(starter):
    # GIVEN a running run
    starter.runs.create("nightly-1", "schedule", None)
    starter.runs.start("nightly-1", "arn:exec:nightly-1", "schedule", REQUEST)
    bad = {
        "source": "aws-basic-batch-sls",
        "detail-type": "Run Requested",
        "id": "evt-bad",
        "detail": {"run_id": "nightly-1", "jobs": 0},
    }

    outcome = starter.handle(bad)

    # THEN the run goes on, and the rejection is recorded under a run of its own
    assert starter.runs.get("nightly-1").status == RunStatus.RUNNING
    assert not outcome.started and outcome.run_id.startswith("rejected-")
    rejected = starter.runs.get(outcome.run_id)
    assert rejected.status == RunStatus.FAILED
    assert "it named run nightly-1, which exists: left unchanged" in rejected.cause


def test_the_lifecycle_function_logs_no_run_request(aws, jobs_table, batch_env, lambda_context, monkeypatch):
    # GIVEN a run request whose config holds something that must not end up in a log
    monkeypatch.setenv("STACK_NAME", "my-stack")
    app = load_handler("run_lifecycle")
    try:
        out = io.StringIO()
        app.logger.registered_handler.setStream(out)
        request = {**REQUEST, "config": {"note": "do-not-log-me"}}
        event = {
            "action": "register",
            "execution_arn": "arn:x:execution:m:r-9",
            "input": {"run_id": "r-9", "request": request},
        }

        result = app.lambda_handler(event, lambda_context)
    finally:
        unload_handler(app)

    assert "do-not-log-me" in json.dumps(result)  # the coordinator job still gets it
    [line] = [json.loads(text) for text in out.getvalue().splitlines() if "run lifecycle step" in text]
    assert line["run_id"] == "r-9" and "do-not-log-me" not in json.dumps(line)
