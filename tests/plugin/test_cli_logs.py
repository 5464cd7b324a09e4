"""The operator CLI's logs command against moto: every page of a job's or the coordinator's log, errors
that say what to do."""

from __future__ import annotations

import time

import boto3
import pytest

from sls_contract.job_store import JobStore
from sls_contract.run_record import RunStatus
from sls_contract.run_store import RunStore
from tests.support.cli import ARN, add_job, cli
from tests.support.cloud import BatchEnv


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
