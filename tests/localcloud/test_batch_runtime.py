"""The local Batch runtime over a moto server: a job's lifecycle, events, logs, retries, secrets, dependencies
and stopping."""

from __future__ import annotations

import os
from typing import Any


def test_job_runs_its_command_and_succeeds_with_output_in_its_log_stream(
    runtime_factory: Any, batch_setup: Any
) -> None:
    runtime_factory()
    # WHEN a job echoes its environment
    job_id = batch_setup.submit(
        "hello",
        'echo "hi $FROM_DEFINITION $FROM_SUBMIT attempt=$AWS_BATCH_JOB_ATTEMPT id=$AWS_BATCH_JOB_ID"; pwd',
        containerOverrides={"environment": [{"name": "FROM_SUBMIT", "value": "sub"}]},
    )
    # THEN it succeeds and its stdout is in the attempt's log stream
    job = batch_setup.wait_done(job_id)
    assert job["status"] == "SUCCEEDED"
    assert job["statusReason"] == "Essential container in task exited"
    assert job["container"]["exitCode"] == 0
    stream = job["container"]["logStreamName"]
    assert stream.startswith(f"{batch_setup.job_definition}/default/")
    assert [a["container"]["logStreamName"] for a in job["attempts"]] == [stream]
    messages = [
        e["message"]
        for e in batch_setup.logs.get_log_events(logGroupName="/aws/batch/job", logStreamName=stream)[
            "events"
        ]
    ]
    assert messages[0] == f"hi jd sub attempt=1 id={job_id}"
    assert os.path.basename(messages[1]) == "attempt-1"
    env = job["container"]["environment"]
    assert env == [{"name": "FROM_DEFINITION", "value": "jd"}, {"name": "FROM_SUBMIT", "value": "sub"}]
    assert batch_setup.job(job_id)["container"]["environment"] == env  # no duplicates on re-describe


def test_state_change_events_reach_sqs_with_the_describe_jobs_shape(
    runtime_factory: Any, batch_setup: Any, wait: Any
) -> None:
    runtime_factory()
    job_id = batch_setup.submit("evented", "echo ok", parameters={"run": "r1"})
    job = batch_setup.wait_done(job_id)
    # THEN the rule delivered one event per transition after SUBMITTED, in order
    batch_setup.wait_event(job_id, "SUCCEEDED")
    assert batch_setup.statuses(job_id) == ["RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"]
    last = batch_setup.received[-1]
    assert last["source"] == "aws.batch"
    assert last["detail-type"] == "Batch Job State Change"
    assert last["resources"] == [job["jobArn"]]
    detail = last["detail"]
    assert "tags" not in detail
    assert {k: v for k, v in job.items() if k != "tags"} == detail  # DescribeJobs = the last event
    assert detail["jobQueue"] == batch_setup.queue_arn
    assert detail["parameters"] == {"run": "r1"}
    assert detail["container"]["environment"] == [{"name": "FROM_DEFINITION", "value": "jd"}]
    assert detail["container"]["image"] == "public.ecr.aws/docker/library/python:3.12"
    assert detail["container"]["command"] == ["/bin/bash", "-c", "echo ok"]
    assert detail["startedAt"] <= detail["stoppedAt"]
    running = next(e["detail"] for e in batch_setup.received if e["detail"]["status"] == "RUNNING")
    assert running["startedAt"] == detail["startedAt"] and "stoppedAt" not in running


def test_failing_command_fails_the_job_with_its_exit_code(runtime_factory: Any, batch_setup: Any) -> None:
    runtime_factory()
    job = batch_setup.wait_done(batch_setup.submit("failing", "echo boom >&2; exit 3"))
    assert job["status"] == "FAILED"
    assert job["statusReason"] == "Essential container in task exited"
    assert job["container"]["exitCode"] == 3
    assert [a["container"]["exitCode"] for a in job["attempts"]] == [3]


def test_timeout_kills_the_attempt_with_the_aws_reason(runtime_factory: Any, batch_setup: Any) -> None:
    runtime = runtime_factory(kill_grace_seconds=0.5)
    job_id = batch_setup.submit("slow", "sleep 30", timeout={"attemptDurationSeconds": 1})
    job = batch_setup.wait_done(job_id)
    assert job["status"] == "FAILED"
    assert job["statusReason"] == "Job attempt duration exceeded timeout"
    assert job["attempts"][0]["statusReason"] == "Job attempt duration exceeded timeout"
    assert runtime.running_pids() == []


def test_retry_strategy_succeeds_on_the_second_attempt(runtime_factory: Any, batch_setup: Any) -> None:
    runtime_factory()
    job_id = batch_setup.submit(
        "flaky",
        'echo "attempt $AWS_BATCH_JOB_ATTEMPT"; test "$AWS_BATCH_JOB_ATTEMPT" != 1',
        retryStrategy={"attempts": 3, "evaluateOnExit": [{"onExitCode": "1", "action": "RETRY"}]},
    )
    job = batch_setup.wait_done(job_id)
    assert job["status"] == "SUCCEEDED"
    assert [a["container"]["exitCode"] for a in job["attempts"]] == [1, 0]
    streams = [a["container"]["logStreamName"] for a in job["attempts"]]
    assert len(set(streams)) == 2 and job["container"]["logStreamName"] == streams[1]
    assert batch_setup.wait_event(job_id, "SUCCEEDED") == [
        "RUNNABLE", "STARTING", "RUNNING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"
    ]  # fmt: skip


def test_evaluate_on_exit_exit_rule_stops_retries(runtime_factory: Any, batch_setup: Any) -> None:
    runtime_factory()
    job = batch_setup.wait_done(
        batch_setup.submit(
            "fatal",
            "exit 7",
            retryStrategy={"attempts": 3, "evaluateOnExit": [{"onExitCode": "7*", "action": "EXIT"}]},
        )
    )
    assert job["status"] == "FAILED" and len(job["attempts"]) == 1


def test_terminate_jobs_stops_running_and_queued_jobs(
    runtime_factory: Any, batch_setup: Any, wait: Any
) -> None:
    runtime = runtime_factory()
    # GIVEN two jobs holding both vCPUs and a third one waiting for room
    running = [batch_setup.submit(f"long-{i}", "sleep 60 & sleep 60; wait") for i in range(2)]
    queued = batch_setup.submit("queued", "sleep 60")
    wait(lambda: all(batch_setup.job(j)["status"] == "RUNNING" for j in running))
    assert batch_setup.job(queued)["status"] == "RUNNABLE"
    pids = runtime.running_pids()
    # WHEN TerminateJobs names them all (and an unknown id)
    result = batch_setup.batch.terminate_jobs(jobs=[*running, queued, "no-such-job"], reason="stop now")
    assert sorted(result["successful"]) == sorted([*running, queued, "no-such-job"])
    assert result["errors"] == []
    # THEN every job is FAILED with the reason and no process is left
    for job_id in [*running, queued]:
        job = batch_setup.wait_done(job_id)
        assert (job["status"], job["statusReason"]) == ("FAILED", "stop now")
    for pid in pids:
        assert not _alive(pid)
    assert runtime.running_pids() == []


def test_cancel_jobs_leaves_running_jobs_alone(runtime_factory: Any, batch_setup: Any, wait: Any) -> None:
    runtime_factory()
    running = [batch_setup.submit(f"busy-{i}", "sleep 60") for i in range(2)]
    queued = batch_setup.submit("waiting", "sleep 60")
    wait(lambda: all(batch_setup.job(j)["status"] == "RUNNING" for j in running))
    result = batch_setup.batch.cancel_jobs(jobs=[*running, queued], reason="cancelled")
    assert result["errors"] == []
    job = batch_setup.wait_done(queued)
    assert (job["status"], job["statusReason"]) == ("FAILED", "cancelled")
    assert [batch_setup.job(j)["status"] for j in running] == ["RUNNING", "RUNNING"]
    batch_setup.batch.terminate_job(jobId=running[0], reason="single")
    assert batch_setup.wait_done(running[0])["statusReason"] == "single"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_secrets_are_injected_into_the_environment(
    runtime_factory: Any, batch_setup: Any, client: Any
) -> None:
    runtime_factory()
    secret_arn = client("secretsmanager").create_secret(Name="db-pass", SecretString="s3cr3t")["ARN"]
    client("ssm").put_parameter(Name="/app/token", Value="tok", Type="SecureString")
    batch_setup.batch.register_job_definition(
        jobDefinitionName="with-secrets",
        type="container",
        containerProperties={
            "image": "busybox",
            "command": ["/bin/bash", "-c", 'echo "$DB_PASS $TOKEN"'],
            "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "512"}],
            "secrets": [
                {"name": "DB_PASS", "valueFrom": secret_arn},
                {"name": "TOKEN", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/app/token"},
            ],
        },
    )
    job_id = batch_setup.batch.submit_job(
        jobName="secretive", jobQueue=batch_setup.queue_name, jobDefinition="with-secrets"
    )["jobId"]
    job = batch_setup.wait_done(job_id)
    assert job["status"] == "SUCCEEDED"
    stream = job["container"]["logStreamName"]
    events = batch_setup.logs.get_log_events(logGroupName="/aws/batch/job", logStreamName=stream)["events"]
    assert [e["message"] for e in events] == ["s3cr3t tok"]
    assert all(e["name"] not in ("DB_PASS", "TOKEN") for e in job["container"]["environment"])


def test_depends_on_waits_in_pending_and_fails_after_a_failed_dependency(
    runtime_factory: Any, batch_setup: Any
) -> None:
    runtime_factory()
    first = batch_setup.submit("first", "sleep 0.3")
    second = batch_setup.submit("second", "true", dependsOn=[{"jobId": first}])
    broken = batch_setup.submit("broken", "exit 2")
    orphan = batch_setup.submit("orphan", "true", dependsOn=[{"jobId": broken}])
    assert batch_setup.wait_done(second)["status"] == "SUCCEEDED"
    assert batch_setup.wait_done(first)["stoppedAt"] <= batch_setup.job(second)["startedAt"]
    job = batch_setup.wait_done(orphan)
    assert (job["status"], job["statusReason"]) == ("FAILED", "Dependent Job failed")
    assert batch_setup.wait_event(second, "SUCCEEDED")[0] == "PENDING"


def test_job_behaviour_rules_fail_and_hang_jobs_by_name(
    runtime_factory: Any, batch_setup: Any, wait: Any
) -> None:
    runtime = runtime_factory(
        job_behaviour=[{"pattern": "bad-*", "fail": 42}, {"pattern": "stuck", "hang": True}]
    )
    bad = batch_setup.wait_done(batch_setup.submit("bad-1", "true"))
    assert (bad["status"], bad["container"]["exitCode"]) == ("FAILED", 42)
    stuck = batch_setup.submit("stuck", "true")
    wait(lambda: batch_setup.job(stuck)["status"] == "RUNNING")
    assert runtime.running_pids() == []  # a hung job holds its vCPU but runs nothing
    batch_setup.batch.terminate_job(jobId=stuck, reason="unstick")
    assert batch_setup.wait_done(stuck)["statusReason"] == "unstick"


def test_stop_kills_every_job_process_and_restores_moto(
    runtime_factory: Any, batch_setup: Any, wait: Any
) -> None:
    from localcloud.batch import active_runtime, install, uninstall

    runtime = runtime_factory()
    assert install(runtime.config) is runtime  # idempotent
    ids = [batch_setup.submit(f"forever-{i}", "sleep 300 & sleep 300; wait") for i in range(2)]
    wait(lambda: len(runtime.running_pids()) == 2)
    pids = runtime.running_pids()
    uninstall()
    assert active_runtime() is None
    for pid in pids:
        assert not _alive(pid)
    assert not any(
        t.name == "localcloud-batch-scheduler" and t.is_alive() for t in __import__("threading").enumerate()
    )
    assert {j["jobId"] for j in batch_setup.batch.describe_jobs(jobs=ids)["jobs"]} == set(ids)
