"""The operator CLI's cancel command against moto: submitted jobs terminated, the execution stopped,
the run marked cancelled."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import boto3
import botocore.session
import pytest

from sls_contract.job_store import JobStore
from sls_contract.run_record import RunStatus
from sls_contract.run_store import RunStore
from sls_contract.status import JobStatus
from tests.support.cli import STACK, add_job, cli
from tests.support.cloud import BatchEnv


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
