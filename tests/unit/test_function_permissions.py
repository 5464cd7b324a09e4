"""Each function's role allows every AWS call its handler makes, on the resource the call touches.

The real handlers run on moto through the paths their own unit tests drive; every botocore call they make
is recorded, mapped to its IAM action and resource (a table or one of its indexes, a job, a queue, ...)
and checked against the function's role in the translated template. A call the role does not allow would
be AccessDenied on AWS, which moto (no IAM checks) never shows: the reconcile sweep's Query of the
live-jobs index was one such call. Lambda's own use of the role (its logs, SQS event sources, dead-letter
queue) is checked too.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest

from sls_contract.job_record import LIVE_INDEX
from sls_contract.submitter import CLAIM_LEASE_SECONDS
from tests.conftest import JOBS_TABLE, STACK_NAME
from tests.support.aws_calls import ok_response, on_call
from tests.support.cloud import BatchEnv
from tests.support.events import state_change, state_events
from tests.support.handlers import load_handler, unload_handler
from tests.support.iam import CallRecorder, Stack, allows, needs, platform_needs
from tests.support.specs import SECRET_ARN, model
from tests.support.submit_handler import deliver, message, spec_on

RUNS_BUCKET = "runs-bucket"
STATE_MACHINE = f"{STACK_NAME}-coordinator"  # the name template.yaml gives the coordinator machine
REQUEST = {"storage_prefix": "s3://data/run", "jobs": 5}


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> CallRecorder:
    calls = CallRecorder()
    calls.install(monkeypatch)
    return calls


@pytest.fixture
def stack(template: dict[str, Any], batch_env: BatchEnv) -> Stack:
    return Stack(
        template,
        STACK_NAME,
        parameters={
            "JobQueueArn": batch_env.job_queue_arn,
            "JobDefinitionArn": batch_env.job_definition_arn.rsplit(":", 1)[0],  # without its revision
        },
        names={"JobsTable": JOBS_TABLE, "RunsBucket": RUNS_BUCKET},
    )


@pytest.fixture
def loaded(aws: None, jobs_table: str) -> Iterator[Callable[[str], ModuleType]]:
    modules: list[ModuleType] = []

    def load(function_dir: str) -> ModuleType:
        modules.append(load_handler(function_dir))
        return modules[-1]

    yield load
    for module in modules:
        unload_handler(module)


def denied(stack: Stack, function: str, recorder: CallRecorder) -> list[str]:
    statements = stack.statements(stack.role_of(function))
    wanted = [pair for call in recorder.calls for pair in needs(call)] + platform_needs(stack, function)
    return sorted(
        {f"{action} on {resource}" for action, resource in wanted if not allows(statements, action, resource)}
    )


def actions(recorder: CallRecorder) -> set[str]:
    return {action for call in recorder.calls for action, _ in needs(call)}


# --- the handlers, through the paths their unit tests drive ----------------------------------------


def _drive_submit(app: ModuleType, batch_env: BatchEnv, context: Any, recorder: CallRecorder) -> None:
    # a dead delivery's job, found by name (ListJobs) instead of submitted again
    dead = spec_on(batch_env, job_id="job-dead0001", job_name="snakemake-dead-1")
    app.store.claim(model(dead), "dead-delivery", CLAIM_LEASE_SECONDS)
    boto3.client("batch").submit_job(
        jobName=dead["job_name"], jobQueue=batch_env.job_queue, jobDefinition=batch_env.job_definition
    )
    boto3.client("dynamodb").update_item(  # ... and its lease ran out
        TableName=JOBS_TABLE,
        Key={"run_id": {"S": dead["run_id"]}, "job_id": {"S": dead["job_id"]}},
        UpdateExpression="SET claimed_at = :old",
        ExpressionAttributeValues={":old": {"N": str(int(time.time()) - CLAIM_LEASE_SECONDS - 1)}},
    )
    # a cancel landing while SubmitJob is on its way: the new job is terminated (TerminateJobs)
    cancelled_meanwhile = spec_on(
        batch_env, run_id="run-c", job_id="job-cancel01", job_name="snakemake-cancel-1"
    )

    def cancel_meanwhile(body: dict[str, Any]) -> None:
        if body["jobName"] == cancelled_meanwhile["job_name"]:
            app.store.request_cancel("run-c", "ctrl-c")

    on_call(app.batch, "SubmitJob", cancel_meanwhile)
    on_call(app.batch, "TerminateJobs", lambda b: ok_response({"successful": b["jobs"], "errors": []}))
    with recorder.recording():
        deliver(app, context, message(spec_on(batch_env)))
        deliver(app, context, message(spec_on(batch_env)))  # a duplicate delivery
        deliver(app, context, message(spec_on(batch_env, job_id="job-secret-1", secrets=[
            {"name": "DB_PASSWORD", "valueFrom": SECRET_ARN}
        ]), "m-secret"))  # fmt: skip
        deliver(app, context, message(dead, "m-dead", receive_count=2))
        deliver(app, context, message(cancelled_meanwhile, "m-cancel"))
        app.store.request_cancel("run-2", "ctrl-c")
        deliver(app, context, message(spec_on(batch_env, run_id="run-2"), "m-cancelled"))
        deliver(app, context, {**message(spec_on(batch_env)), "body": "{not json"})


def _drive_record(app: ModuleType, context: Any, recorder: CallRecorder) -> None:
    broken = state_change("batch_job_running", "run-1", "job-00000002", status="EXPLODED")
    del broken["detail"]["jobId"]
    with recorder.recording():
        app.lambda_handler(state_events(state_change("batch_job_running", "run-1", "job-00000001")), context)
        app.lambda_handler(
            state_events(state_change("batch_job_succeeded", "run-1", "job-00000001")), context
        )
        app.lambda_handler(state_events(broken), context)


def _drive_start_run(app: ModuleType, context: Any, recorder: CallRecorder) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=RUNS_BUCKET)
    s3.put_bucket_versioning(Bucket=RUNS_BUCKET, VersioningConfiguration={"Status": "Enabled"})

    def upload(key: str, body: str) -> dict[str, Any]:
        version = s3.put_object(Bucket=RUNS_BUCKET, Key=key, Body=body)["VersionId"]
        obj = {"key": key, "etag": "e1", "version-id": version}
        return {"source": "aws.s3", "detail-type": "Object Created", "id": key, "detail": {
            "bucket": {"name": RUNS_BUCKET}, "object": obj,
        }}  # fmt: skip

    requested = {"source": "aws-basic-batch-sls", "detail-type": "Run Requested", "id": "e-1"}
    good = upload("run-requests/good.json", json.dumps(REQUEST))
    # an upload event naming no version (S3's "null": a bucket without versioning): GetObject
    unversioned = upload("run-requests/plain.json", json.dumps(REQUEST))
    unversioned["detail"]["object"]["version-id"] = "null"
    bad = upload("run-requests/bad.json", "{not json: [")
    with recorder.recording():
        app.lambda_handler(good, context)
        app.lambda_handler(good, context)  # a duplicate trigger
        app.lambda_handler(unversioned, context)
        app.lambda_handler(bad, context)
        app.lambda_handler(bad, context)  # a duplicate of a rejected trigger
        app.lambda_handler({**requested, "detail": {**REQUEST, "run_id": "named"}}, context)
        # a bad request naming an existing run: the rejection gets a run of its own
        app.lambda_handler({**requested, "id": "e-2", "detail": {"run_id": "named", "jobs": 5}}, context)
        fired = {"trigger": "schedule", "time": "2026-11-22T00:00:00Z", "request": REQUEST}
        app.lambda_handler(fired, context)


def _drive_run_lifecycle(app: ModuleType, batch_env: BatchEnv, context: Any, recorder: CallRecorder) -> None:
    # moto in-process has no TerminateJobs: answer it here (Lambda's boto3 has it)
    on_call(
        app.lifecycle.batch, "TerminateJobs", lambda b: ok_response({"successful": b["jobs"], "errors": []})
    )
    spec = model(spec_on(batch_env, run_id="run-f"))
    app.lifecycle.jobs.claim(spec, "t", 120)
    job = boto3.client("batch").submit_job(
        jobName="j", jobQueue=batch_env.job_queue, jobDefinition="test-job"
    )
    app.lifecycle.jobs.mark_submitted(spec, job["jobId"], job["jobArn"])
    app.lifecycle.jobs.claim(model(spec_on(batch_env, run_id="run-f", job_id="job-queued01")), "t", 120)
    with recorder.recording():
        for run_id in ("run-s", "run-f", "run-a"):
            register = {"action": "register", "execution_arn": f"arn:x:execution:m:{run_id}"}
            app.lambda_handler({**register, "input": {"run_id": run_id, "request": REQUEST}}, context)
        app.lambda_handler({"action": "succeeded", "run_id": "run-s"}, context)
        error = {"Error": "States.TaskFailed", "Cause": "exit code 1"}
        app.lambda_handler({"action": "failed", "input": {"run_id": "run-f"}, "error": error}, context)
        stopped = {"name": "run-a", "status": "ABORTED", "executionArn": "arn:x:execution:m:run-a"}
        app.lambda_handler(
            {"detail-type": "Step Functions Execution Status Change", "detail": stopped}, context
        )


def _drive_reconcile(app: ModuleType, batch_env: BatchEnv, context: Any, recorder: CallRecorder) -> None:
    batch = boto3.client("batch")
    specs = [model(spec_on(batch_env, run_id="run-r", job_id=f"job-{i:08d}")) for i in range(2)]
    for spec in specs:
        app.store.claim(spec, "t", 120)
        job = batch.submit_job(jobName=spec.job_name, jobQueue=batch_env.job_queue, jobDefinition="test-job")
        app.store.mark_submitted(spec, job["jobId"], job["jobArn"])
    gone = model(spec_on(batch_env, run_id="run-r", job_id="job-gone0001"))
    app.store.claim(gone, "t", 120)
    app.store.mark_submitted(gone, "00000000-0000-0000-0000-000000000000", None)  # Batch forgot it
    time.sleep(0.01)
    with recorder.recording():
        app.lambda_handler({}, context)  # the scheduled sweep (RECONCILE_AFTER_SECONDS: everything)
        app.lambda_handler({"run_id": "run-r", "job_ids": [s.job_id for s in specs]}, context)  # the plugin


# --- the test --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("function", "exercised"),
    [
        (
            "SubmitFunction",
            {"dynamodb:UpdateItem", "dynamodb:BatchGetItem", "batch:SubmitJob", "batch:TerminateJob"}
            | {"batch:ListJobs", "batch:RegisterJobDefinition", "batch:DescribeJobDefinitions"},
        ),
        ("RecordFunction", {"dynamodb:UpdateItem"}),
        (
            "StartRunFunction",
            {"s3:GetObject", "s3:GetObjectVersion", "states:StartExecution"}
            | {"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem"},
        ),
        (
            "RunLifecycleFunction",
            {"dynamodb:Query", "batch:TerminateJob", "events:PutEvents", "dynamodb:UpdateItem"},
        ),
        (
            "ReconcileFunction",
            {"dynamodb:Query", "dynamodb:BatchGetItem", "batch:DescribeJobs", "dynamodb:UpdateItem"},
        ),
    ],
)
def test_the_role_allows_every_call_the_handler_makes(
    function: str,
    exercised: set[str],
    stack: Stack,
    loaded: Callable[[str], ModuleType],
    batch_env: BatchEnv,
    recorder: CallRecorder,
    lambda_context: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN the function's handler, loaded as Lambda loads it
    if function == "SubmitFunction":
        _drive_submit(loaded("submit_job"), batch_env, lambda_context, recorder)
    elif function == "RecordFunction":
        _drive_record(loaded("record_state"), lambda_context, recorder)
    elif function == "StartRunFunction":
        machine = boto3.client("stepfunctions").create_state_machine(
            name=STATE_MACHINE,
            definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
            roleArn="arn:aws:iam::123456789012:role/sfn",
        )["stateMachineArn"]
        monkeypatch.setenv("STATE_MACHINE_ARN", machine)
        _drive_start_run(loaded("start_run"), lambda_context, recorder)
    elif function == "RunLifecycleFunction":
        _drive_run_lifecycle(loaded("run_lifecycle"), batch_env, lambda_context, recorder)
    else:
        monkeypatch.setenv("RECONCILE_AFTER_SECONDS", "-3600")
        _drive_reconcile(loaded("reconcile"), batch_env, lambda_context, recorder)

    # THEN the paths made the calls they are meant to (so the check below is not vacuous) ...
    assert exercised <= actions(recorder)
    # ... and the function's role allows each of them, and what Lambda does with the role
    assert not (missing := denied(stack, function, recorder)), "not allowed:\n" + "\n".join(missing)


def test_the_sweep_queries_the_live_jobs_index_not_the_table(
    stack: Stack, loaded: Callable[[str], ModuleType], batch_env: BatchEnv, recorder: CallRecorder,
    lambda_context: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("RECONCILE_AFTER_SECONDS", "-3600")
    _drive_reconcile(loaded("reconcile"), batch_env, lambda_context, recorder)

    queries = [call for call in recorder.calls if call.operation in ("Query", "Scan")]
    assert queries and {(c.operation, c.params.get("IndexName")) for c in queries} == {("Query", LIVE_INDEX)}
