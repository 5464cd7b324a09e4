"""The operator CLI against moto: runs, show, logs, cancel, start, and one readable line per error."""

from __future__ import annotations

import gzip
import io
import json
import re
import time
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import boto3
import botocore.session
import pytest
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer
from rich.console import Console

from localcloud.endpoint import free_port
from sls_contract import stack_outputs
from sls_contract.events import parse_state_change
from sls_contract.run_record import RunStatus
from sls_contract.run_request import EVENT_SOURCE, RUN_REQUESTED
from sls_contract.run_store import RunStore
from sls_contract.status import JobStatus
from sls_contract.store import JobStore
from snakemake_executor_plugin_aws_basic_batch_sls.cli import main
from snakemake_executor_plugin_aws_basic_batch_sls.cli.tables import when
from tests.support.cloud import REGION, BatchEnv
from tests.support.events import state_change
from tests.support.specs import minimal_spec, model

STACK = "sls-test"
ARN = f"arn:aws:states:{REGION}:123456789012:execution:{STACK}-coordinator:run-b"
# Batch times from tests/events/batch_job_*.json: started 1767225662456, stopped 1767225781789 (ms).
DURATION = "119.3"


@pytest.fixture
def stack(jobs_table: str) -> dict[str, str]:
    """A stack whose Outputs name the jobs table and the region, as template.yaml's do."""
    outputs = {stack_outputs.JOBS_TABLE_NAME: jobs_table, stack_outputs.REGION: REGION}
    body = {
        "Resources": {"Nothing": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    boto3.client("cloudformation").create_stack(StackName=STACK, TemplateBody=json.dumps(body))
    return outputs


@pytest.fixture
def runs(dynamodb: Any, jobs_table: str) -> RunStore:
    return RunStore(dynamodb, jobs_table)


@pytest.fixture
def jobs(dynamodb: Any, jobs_table: str) -> JobStore:
    return JobStore(dynamodb, jobs_table)


def cli(*argv: str) -> tuple[int, str]:
    """main(argv) in-process; (exit code, what it printed), wide enough that no cell wraps."""
    out = io.StringIO()
    code = main(["--stack", STACK, *argv], Console(file=out, width=250, color_system=None))
    return code, out.getvalue()


def rows(output: str) -> list[list[str]]:
    """The rows of rich tables (header first, drawn with heavy lines): cells stripped."""
    lines = [line.replace("┃", "│") for line in output.splitlines()]
    return [[cell.strip() for cell in line.split("│")[1:-1]] for line in lines if "│" in line]


def add_job(
    jobs: JobStore,
    run_id: str,
    job_id: str,
    rule: str,
    event: str | None = None,
    batch_job_id: str | None = None,
    log_stream: str | None = None,
) -> None:
    """A job as the control plane records it: claimed, maybe submitted, maybe with a Batch event."""
    spec = model(minimal_spec(run_id=run_id, job_id=job_id, rule=rule))
    jobs.claim(spec, "token", 300)
    if batch_job_id:
        jobs.mark_submitted(spec, batch_job_id, None)
    if event:
        change = state_change(event, run_id, job_id, jobId=batch_job_id)
        if log_stream:
            change["detail"]["container"]["logStreamName"] = log_stream
            for attempt in change["detail"].get("attempts", []):
                attempt["container"]["logStreamName"] = log_stream
        jobs.apply_state_change(parse_state_change(change).detail)


# -- runs ---------------------------------------------------------------------------------------------


def test_runs_lists_newest_first_with_counts(stack: dict, runs: RunStore, jobs: JobStore) -> None:
    # GIVEN a finished run (counts on its record), a failed one and a live one (counts read now)
    runs.create("run-a", "s3://bucket/requests/a.yaml", {"storage_prefix": "s3://bucket/a"})
    runs.finish("run-a", RunStatus.SUCCEEDED, None, {"SUCCEEDED": 3})
    runs.create("run-f", "event:1234", None)
    runs.finish("run-f", RunStatus.FAILED, "States.TaskFailed: " + "x" * 100 + "\nsecond line", {"FAILED": 1})
    runs.create("run-b", "schedule", None)
    runs.start("run-b", ARN, "schedule", {"storage_prefix": "s3://bucket/b"})
    add_job(jobs, "run-b", "job-00000001", "map", "batch_job_running", "batch-1")
    add_job(jobs, "run-b", "job-00000002", "map", "batch_job_succeeded", "batch-2")
    created = {run.run_id: when(run.created_at) for run in runs.recent()}
    finished = {run.run_id: when(run.finished_at) for run in runs.recent()}

    # WHEN
    code, output = cli("runs")

    # THEN newest first, live counts for the running run, the cause's first line cut to 60
    assert code == 0
    assert rows(output)[1:] == [
        ["run-b", "RUNNING", "schedule", created["run-b"], "-", "RUNNING 1, SUCCEEDED 1", ""],
        ["run-f", "FAILED", "event:1234", created["run-f"], finished["run-f"], "FAILED 1",
         "States.TaskFailed: " + "x" * 40 + "…"],
        ["run-a", "SUCCEEDED", "s3://bucket/requests/a.yaml", created["run-a"], finished["run-a"],
         "SUCCEEDED 3", ""],
    ]  # fmt: skip
    assert rows(output)[0] == ["run id", "status", "trigger", "created", "finished", "jobs", "cause"]


def test_runs_limit_and_no_runs(stack: dict, runs: RunStore) -> None:
    assert cli("runs") == (0, "no runs yet\n")
    for run_id in ("run-1", "run-2", "run-3"):
        runs.create(run_id, "schedule", None)

    code, output = cli("runs", "--limit", "2")

    assert code == 0
    assert [row[0] for row in rows(output)[1:]] == ["run-3", "run-2"]


# -- show ---------------------------------------------------------------------------------------------


def test_show_prints_the_run_its_jobs_and_counts(stack: dict, runs: RunStore, jobs: JobStore) -> None:
    # GIVEN a run that failed after its coordinator started two jobs
    runs.create("run-b", "event:1234", None)
    runs.start("run-b", ARN, "event:1234", {"storage_prefix": "s3://bucket/b"})
    add_job(jobs, "run-b", "job-00000001", "map", "batch_job_succeeded", "batch-1")
    add_job(jobs, "run-b", "job-00000002", "reduce", "batch_job_failed", "batch-2")
    add_job(jobs, "run-b", "job-00000003", "plot")
    runs.finish(
        "run-b", RunStatus.FAILED, "coordinator exited 1", {"SUCCEEDED": 1, "FAILED": 1}, "batch-coord"
    )
    run = runs.get("run-b")
    assert run is not None

    # WHEN
    code, output = cli("show", "run-b")

    # THEN the record (with a console link: not the local cloud), every job, and the counts
    assert code == 0
    lines = [line.rstrip() for line in output.splitlines()]
    assert lines[:10] == [
        "run              run-b",
        "status           FAILED",
        "trigger          event:1234",
        f"execution        {ARN}",
        f"console          https://{REGION}.console.aws.amazon.com/states/home?region={REGION}"
        f"#/v2/executions/details/{ARN}",
        "coordinator job  batch-coord",
        "cause            coordinator exited 1",
        f"created          {when(run.created_at)}",
        f"started          {when(run.started_at)}",
        f"finished         {when(run.finished_at)}",
    ]
    assert rows(output) == [
        ["rule", "Batch job id", "status", "exit code", "attempts", "duration (s)", "reason"],
        ["map", "batch-1", "SUCCEEDED", "0", "1", DURATION, ""],
        [
            "reduce",
            "batch-2",
            "FAILED",
            "137",
            "1",
            DURATION,
            "Essential container in task exited: OutOfMemoryError: Container killed due to m…",
        ],
        ["plot", "-", "SUBMITTING", "-", "-", "-", ""],
    ]
    assert lines[-1] == "3 jobs: SUBMITTING 1, SUCCEEDED 1, FAILED 1"


def test_show_a_run_the_plugin_started_without_a_run_record(stack: dict, jobs: JobStore) -> None:
    add_job(jobs, "laptop-run", "job-00000001", "map", "batch_job_running", "batch-1")

    code, output = cli("show", "laptop-run")

    assert code == 0
    assert output.splitlines()[0] == (
        "run laptop-run: no run record (started by snakemake directly, not by a trigger)"
    )
    assert rows(output)[1] == ["map", "batch-1", "RUNNING", "-", "0", "-", ""]
    assert output.splitlines()[-1] == "1 jobs: RUNNING 1"


def test_show_on_the_local_cloud_by_endpoint_url(stack: dict, runs: RunStore, jobs: JobStore) -> None:
    # GIVEN a moto server on loopback (as the local cloud runs it) over this test's moto backends
    runs.create("run-b", "schedule", None)
    runs.start("run-b", ARN, "schedule", {"storage_prefix": "s3://bucket/b"})
    add_job(jobs, "run-b", "job-00000001", "map", "batch_job_running", "batch-1")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        # WHEN the endpoint comes from the plugin's environment variable
        out = io.StringIO()
        with pytest.MonkeyPatch.context() as env:
            env.setenv("SNAKEMAKE_AWS_BASIC_BATCH_SLS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
            code = main(["--stack", STACK, "show", "run-b"], Console(file=out, width=250, color_system=None))
    finally:
        server.stop()

    # THEN the run and its jobs, and no AWS console link
    assert code == 0
    output = out.getvalue()
    details = [line.split() for line in output.splitlines()[:6]]
    assert details == [["run", "run-b"], ["status", "RUNNING"], ["trigger", "schedule"],
                       ["execution", ARN], ["created", ANY, ANY], ["started", ANY, ANY]]  # fmt: skip
    assert rows(output)[1] == ["map", "batch-1", "RUNNING", "-", "0", "-", ""]


def test_show_an_unknown_run_exits_1(stack: dict, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("show", "nope") == (1, "")
    assert capsys.readouterr().err == (
        "aws-basic-batch-sls: no run 'nope' in stack's jobs table "
        "(`aws-basic-batch-sls runs` lists recent runs)\n"
    )


# -- logs ---------------------------------------------------------------------------------------------


def write_log(stream: str, messages: list[str]) -> None:
    now = int(time.time() * 1000)  # CloudWatch rejects events older than 14 days
    logs = boto3.client("logs")
    if not logs.describe_log_groups(logGroupNamePrefix="/aws/batch/job")["logGroups"]:
        logs.create_log_group(logGroupName="/aws/batch/job")
    logs.create_log_stream(logGroupName="/aws/batch/job", logStreamName=stream)
    logs.put_log_events(
        logGroupName="/aws/batch/job",
        logStreamName=stream,
        logEvents=[{"timestamp": now + i, "message": m} for i, m in enumerate(messages)],
    )


@pytest.mark.parametrize("job", ["map", "batch-1", "job-00000001"])
def test_logs_prints_every_page(stack: dict, jobs: JobStore, job: str) -> None:
    # GIVEN a job whose log is 25 events: three pages of 10
    add_job(jobs, "run-b", "job-00000001", "map", "batch_job_succeeded", "batch-1", "job/default/abc")
    add_job(jobs, "run-b", "job-00000002", "reduce", "batch_job_running", "batch-2", "job/default/def")
    messages = [f"line {i} [bold]not markup[/bold]" for i in range(25)]
    write_log("job/default/abc", messages)
    write_log("job/default/def", ["another job"])

    # WHEN named by rule, Batch job id or job id
    code, output = cli("logs", "run-b", job, "--page-size", "10")

    # THEN every line, in order, verbatim
    assert code == 0
    assert output.splitlines() == messages


def test_logs_of_the_coordinator_come_from_batch_when_it_has_no_record(
    stack: dict, runs: RunStore, batch_env: BatchEnv
) -> None:
    # GIVEN a run whose coordinator job has no record yet; Batch knows its log stream
    batch = boto3.client("batch")
    job_id = batch.submit_job(
        jobName="coordinator", jobQueue=batch_env.job_queue, jobDefinition=batch_env.job_definition
    )["jobId"]
    runs.start("run-b", ARN, "schedule", {"storage_prefix": "s3://bucket/b"})
    runs.finish("run-b", RunStatus.FAILED, "killed", {}, job_id)
    described = batch.describe_jobs(jobs=[job_id])["jobs"][0]
    write_log(described["container"]["logStreamName"], ["coordinator says hi"])

    assert cli("logs", "run-b", "coordinator") == (0, "coordinator says hi\n")


def test_logs_errors_exit_1_with_what_to_do(
    stack: dict, runs: RunStore, jobs: JobStore, capsys: pytest.CaptureFixture[str]
) -> None:
    add_job(jobs, "run-b", "job-00000001", "map", "batch_job_running", "batch-1", "job/default/gone")
    add_job(jobs, "run-b", "job-00000002", "map", "batch_job_running", "batch-2", "job/default/two")
    add_job(jobs, "run-b", "job-00000003", "plot", batch_job_id="batch-3")
    runs.create("run-r", "schedule", None)
    no_stream = (
        "job plot (batch-3, SUBMITTED) has no log stream yet: Batch creates it when the job starts running"
    )
    ambiguous = "rule 'map' has 2 jobs in run run-b; name one by its Batch job id: batch-1, batch-2"
    gone = "job map's log stream /aws/batch/job/job/default/gone does not exist (not written yet, or expired)"
    unknown = (
        "run run-b has no job 'nothing' (give a job id, a Batch job id, a rule name or 'coordinator'); "
        "`aws-basic-batch-sls show run-b` lists its jobs"
    )
    no_coordinator = "run run-r (REQUESTED) has no coordinator job yet"
    no_run = "no run 'run-x' in stack's jobs table (`aws-basic-batch-sls runs` lists recent runs)"
    cases = [
        ("run-b", "plot", no_stream),
        ("run-b", "map", ambiguous),
        ("run-b", "batch-1", gone),
        ("run-b", "nothing", unknown),
        ("run-r", "coordinator", no_coordinator),
        ("run-x", "map", no_run),
    ]
    for run_id, job, message in cases:
        assert cli("logs", run_id, job) == (1, ""), job
        assert capsys.readouterr().err == f"aws-basic-batch-sls: {message}\n"


# -- cancel -------------------------------------------------------------------------------------------


@pytest.fixture
def batch_without_bulk_terminate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Batch's model minus TerminateJobs (moto has only TerminateJob), for every session the CLI makes."""
    loader = botocore.session.get_session().get_component("data_loader")
    service_model = loader.load_service_model("batch", "service-2")
    del service_model["operations"]["TerminateJobs"]
    target = tmp_path / "batch" / service_model["metadata"]["apiVersion"]
    target.mkdir(parents=True)
    (target / "service-2.json.gz").write_bytes(gzip.compress(json.dumps(service_model).encode()))
    (target / "service-2.json").write_text(json.dumps(service_model))
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))


def test_cancel_terminates_submitted_jobs_and_marks_the_run_cancelled(
    stack: dict, runs: RunStore, jobs: JobStore, batch_env: BatchEnv, batch_without_bulk_terminate: None
) -> None:
    # GIVEN a run with no state machine: one job in Batch, one never submitted, one finished
    batch = boto3.client("batch")
    live = batch.submit_job(
        jobName="map", jobQueue=batch_env.job_queue, jobDefinition=batch_env.job_definition
    )["jobId"]
    runs.create("run-b", "event:1", None)
    add_job(jobs, "run-b", "job-00000001", "map", "batch_job_running", live)
    add_job(jobs, "run-b", "job-00000002", "reduce")
    add_job(jobs, "run-b", "job-00000003", "done", "batch_job_succeeded", "batch-done")

    # WHEN
    code, output = cli("cancel", "run-b", "--reason", "wrong inputs")

    # THEN the live job got TerminateJob, the queued one is FAILED, the run carries the mark
    assert code == 0
    assert output.splitlines() == [
        "run run-b marked cancelled: no queued job of it will be submitted",
        f"terminated 1 Batch jobs: {live}",
        "1 jobs never submitted, marked FAILED",
    ]
    assert batch.describe_jobs(jobs=[live])["jobs"][0]["statusReason"] == "wrong inputs"
    assert jobs.cancelled_runs(["run-b"]) == {"run-b": "wrong inputs"}
    queued = jobs.get_records("run-b", ["job-00000002"])["job-00000002"]
    assert (queued.status, queued.status_reason) == (
        JobStatus.FAILED,
        "cancelled before submission: wrong inputs",
    )


@pytest.mark.parametrize("registered", [True, False], ids=["running", "not-yet-registered"])
def test_cancel_stops_a_running_execution(
    stack: dict, runs: RunStore, jobs: JobStore, registered: bool
) -> None:
    # GIVEN a run whose coordinator execution is running (RUNNING, or still REQUESTED with its ARN)
    sfn = boto3.client("stepfunctions")
    machine = sfn.create_state_machine(
        name=f"{STACK}-coordinator",
        definition=json.dumps(
            {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 600, "End": True}}}
        ),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, name="run-b")["executionArn"]
    runs.create("run-b", "event:1", None)
    if registered:
        runs.start("run-b", arn, "event:1", {"storage_prefix": "s3://bucket/b"})
    else:
        runs.started("run-b", arn)

    code, output = cli("cancel", "run-b")

    assert code == 0
    assert output.splitlines() == [
        f"stopped execution {arn} (the stack's clean-up marks the run ABORTED)",
        "run run-b marked cancelled: no queued job of it will be submitted",
        "terminated 0 Batch jobs",
    ]
    assert sfn.describe_execution(executionArn=arn)["status"] == "ABORTED"
    assert jobs.cancelled_runs(["run-b"]) == {"run-b": "cancelled with aws-basic-batch-sls cancel"}


def test_cancel_a_finished_or_unknown_run(
    stack: dict, runs: RunStore, jobs: JobStore, capsys: pytest.CaptureFixture[str]
) -> None:
    runs.create("run-a", "schedule", None)
    runs.finish("run-a", RunStatus.SUCCEEDED, None, {})

    assert cli("cancel", "run-a") == (0, "run run-a is already SUCCEEDED; nothing to cancel\n")
    assert jobs.cancelled_runs(["run-a"]) == {}
    assert cli("cancel", "nope") == (1, "")
    assert "no run 'nope'" in capsys.readouterr().err


# -- start --------------------------------------------------------------------------------------------


@pytest.fixture
def requested_events(aws: None) -> str:
    """An EventBridge rule like the stack's RunRequested trigger, delivering to an SQS queue."""
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="run-requests")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = boto3.client("events")
    events.put_rule(
        Name="run-requested",
        EventPattern=json.dumps({"source": [EVENT_SOURCE], "detail-type": [RUN_REQUESTED]}),
    )
    events.put_targets(Rule="run-requested", Targets=[{"Id": "queue", "Arn": arn}])
    return url


def received(url: str) -> list[dict[str, Any]]:
    messages = boto3.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def test_start_puts_the_request_with_a_generated_run_id(
    stack: dict, requested_events: str, tmp_path: Path
) -> None:
    request = tmp_path / "request.yaml"
    request.write_text("storage_prefix: s3://bucket/run\ntargets: [all]\nconfig:\n  samples: 4\n")

    code, output = cli("start", str(request))

    assert code == 0
    run_id = re.fullmatch(r"requested run (\S+) \(event \S+\)", output.splitlines()[0]).group(1)
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{8}", run_id)  # the plugin's new_run_id format
    assert output.splitlines()[1] == f"follow it: aws-basic-batch-sls --stack {STACK} show {run_id}"
    [event] = received(requested_events)
    assert (event["source"], event["detail-type"]) == (EVENT_SOURCE, RUN_REQUESTED)
    assert event["detail"] == {
        "storage_prefix": "s3://bucket/run",
        "targets": ["all"],
        "config": {"samples": 4},
        "run_id": run_id,
    }


def test_start_with_a_run_id(stack: dict, requested_events: str, tmp_path: Path) -> None:
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"storage_prefix": "s3://bucket/run", "run_id": "from-file"}))

    assert cli("start", str(request))[0] == 0
    assert cli("start", str(request), "--run-id", "nightly-1")[0] == 0

    assert [event["detail"]["run_id"] for event in received(requested_events)] == ["from-file", "nightly-1"]


def test_start_rejects_a_bad_request_before_sending_anything(
    stack: dict, requested_events: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("storage_prefix: s3://bucket/run\njobs: 0\n")
    good = tmp_path / "good.yaml"
    good.write_text("storage_prefix: s3://bucket/run\n")
    typo = tmp_path / "typo.yaml"
    typo.write_text("storage_prefx: s3://bucket/run\n")
    broken = tmp_path / "broken.yaml"
    broken.write_text("targets: [a, b\njobs: 3\n")
    cases = {
        (str(bad),): "invalid run request bad.yaml: jobs: Input should be greater than or equal to 1",
        (str(good), "--run-id", "has space"): "--run-id 'has space': run_id: 'has space' is not allowed: "
        "1 to 80 letters, digits, '-' and '_'",
        (str(typo),): "invalid run request typo.yaml: storage_prefix: Field required; "
        "storage_prefx: unknown field (did you mean 'storage_prefix'?)",
        (str(broken),): "run request broken.yaml is neither JSON nor YAML: line 2, column 5: "
        "expected ',' or ']', but got ':'",
        (
            str(tmp_path / "missing.yaml"),
        ): f"cannot read {tmp_path / 'missing.yaml'}: No such file or directory",
    }
    for args, message in cases.items():
        assert cli("start", *args) == (2, "")
        assert capsys.readouterr().err == f"aws-basic-batch-sls: {message}\n"
    assert received(requested_events) == []


# -- errors and settings ------------------------------------------------------------------------------


def test_unknown_stack_and_a_stack_without_the_outputs(
    stack: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--stack", "nope", "runs"]) == 1
    assert capsys.readouterr().err == (
        f"aws-basic-batch-sls: no stack 'nope' in {REGION}: pass --stack NAME (or set "
        "SNAKEMAKE_AWS_BASIC_BATCH_SLS_STACK) and check --region\n"
    )
    boto3.client("cloudformation").create_stack(
        StackName="other", TemplateBody=json.dumps({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}})
    )
    assert main(["--stack", "other", "runs"]) == 1
    assert capsys.readouterr().err == (
        "aws-basic-batch-sls: stack 'other' has no Output JobsTableName: is it an aws-basic-batch-sls stack?\n"
    )


def test_the_stack_comes_from_the_plugins_environment_variable(
    stack: dict, runs: RunStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs.create("run-a", "schedule", None)
    monkeypatch.setenv("SNAKEMAKE_AWS_BASIC_BATCH_SLS_STACK", STACK)
    out = io.StringIO()

    assert main(["runs"], Console(file=out, width=250, color_system=None)) == 0
    assert rows(out.getvalue())[1][0] == "run-a"


def test_throttling_is_one_line(
    stack: dict, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def throttled(*_: Any, **__: Any) -> None:
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "Query")

    monkeypatch.setattr(RunStore, "recent", throttled)

    assert cli("runs") == (1, "")
    assert capsys.readouterr().err == (
        "aws-basic-batch-sls: AWS throttled Query (ThrottlingException) even after retries: "
        "try again in a minute\n"
    )


def test_no_credentials_and_no_region_are_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_DEFAULT_REGION", "AWS_REGION"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    assert main(["runs"]) == 1
    assert capsys.readouterr().err == (
        "aws-basic-batch-sls: no AWS region: pass --region or set SNAKEMAKE_AWS_BASIC_BATCH_SLS_REGION "
        "or AWS_DEFAULT_REGION\n"
    )
    assert main(["--region", REGION, "runs"]) == 1
    assert capsys.readouterr().err == (
        "aws-basic-batch-sls: no AWS credentials found: set AWS_PROFILE (or run `aws configure` / "
        "`aws sso login`), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\n"
    )


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["runs", "--limit", "0"])
    assert exit_info.value.code == 2
    assert "argument --limit: must be at least 1, not 0" in capsys.readouterr().err


def test_start_with_the_id_of_an_existing_run_says_so_and_sends_nothing(
    stack: dict, runs: RunStore, jobs: JobStore, requested_events: str, tmp_path: Path, capsys
) -> None:
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"storage_prefix": "s3://bucket/run"}))
    runs.create("nightly-1", "schedule", None)
    add_job(jobs, "laptop-run", "job-00000001", "map")  # a run snakemake started: jobs, no run record

    assert cli("start", str(request), "--run-id", "nightly-1")[0] == 2
    assert (
        "run 'nightly-1' already exists (REQUESTED): a run id starts one run only" in capsys.readouterr().err
    )
    assert cli("start", str(request), "--run-id", "laptop-run")[0] == 2
    assert "run 'laptop-run' already exists:" in capsys.readouterr().err
    assert received(requested_events) == []


def test_options_work_after_the_subcommand_too(stack: dict, runs: RunStore) -> None:
    runs.create("run-a", "schedule", None)
    out = io.StringIO()
    code = main(["runs", "--stack", STACK, "--limit", "5"], Console(file=out, width=250, color_system=None))
    assert code == 0 and "run-a" in out.getvalue()


def test_data_that_looks_like_rich_markup_is_printed_as_it_is(
    stack: dict, runs: RunStore, jobs: JobStore
) -> None:
    # GIVEN an upload key and a failure cause with square brackets (rich markup, if not escaped)
    runs.create("run-m", "s3://bucket/run-requests/[/x].yaml", None)
    runs.finish("run-m", RunStatus.FAILED, "bad [link=https://evil.example]click[/link] value", {})
    add_job(jobs, "run-m", "job-00000001", "[bold]rule[/bold]")

    listed, shown = cli("runs"), cli("show", "run-m")

    assert listed[0] == 0 and "s3://bucket/run-requests/[/x].yaml" in listed[1]
    assert shown[0] == 0
    assert "bad [link=https://evil.example]click[/link] value" in shown[1]
    assert "[bold]rule[/bold]" in shown[1]
