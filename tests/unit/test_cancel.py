"""cancel_run / terminate_jobs: both Batch APIs (bulk TerminateJobs and per-job TerminateJob)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from sls_contract.cancel import CancelSummary, cancel_run, terminate_jobs
from sls_contract.events import parse_state_change
from sls_contract.job_store import JobStore
from sls_contract.status import JobStatus
from tests.support.aws_calls import record_calls
from tests.support.batch_clients import batch_client_without_terminate_jobs
from tests.support.cloud import BatchEnv
from tests.support.events import state_change
from tests.support.specs import minimal_spec, model

REASON = "user pressed ctrl-c"


@pytest.fixture
def store(dynamodb: Any, jobs_table: str) -> JobStore:
    return JobStore(dynamodb, jobs_table)


def bulk_batch_client() -> Any:
    """A real botocore client with TerminateJobs in its model (checked: the fallback would hide it)."""
    client = boto3.client("batch", region_name="us-east-1")
    assert "TerminateJobs" in client.meta.service_model.operation_names
    return client


def answer_job_b_gone(stub: Stubber, message: str) -> None:
    """TerminateJobs of job-a and job-b: Batch terminates job-a and reports job-b unknown."""
    stub.add_response(
        "terminate_jobs",
        {
            "successful": ["job-a"],
            "errors": [{"job": "job-b", "code": "ClientException", "message": message}],
        },
        expected_params={"jobs": ["job-a", "job-b"], "reason": REASON},
    )


def a_run_in_every_state(store: JobStore) -> dict[str, str]:
    """run-1's jobs: two submitted and live, one claimed but never submitted, two terminal."""
    submitted = model(minimal_spec(job_id="job-submitted"))
    store.claim(submitted, "t", 300)
    store.mark_submitted(submitted, "batch-submitted", None)
    store.apply_state_change(
        parse_state_change(state_change("batch_job_running", "run-1", "job-running0")).detail
    )
    store.claim(model(minimal_spec(job_id="job-claimed0")), "t", 300)
    store.apply_state_change(
        parse_state_change(
            state_change("batch_job_succeeded", "run-1", "job-succeeded", jobId="batch-done")
        ).detail
    )
    store.mark_failed("run-1", "job-failed00", "exit 1")
    store.mark_failed("run-2", "job-other000", "another run")
    return {"job-submitted": "batch-submitted", "job-running0": "4c7599ae-0a82-49aa-ba5a-4727fcce14a8"}


def test_cancel_run_terminates_live_jobs_in_bulk_and_fails_unsubmitted_ones(store: JobStore) -> None:
    live = a_run_in_every_state(store)
    batch = bulk_batch_client()
    with Stubber(batch) as stub:
        # THEN one TerminateJobs call carries exactly the live jobs (terminal ones are skipped)
        stub.add_response(
            "terminate_jobs",
            {"successful": [live["job-running0"], live["job-submitted"]], "errors": []},
            expected_params={"jobs": [live["job-running0"], live["job-submitted"]], "reason": REASON},
        )

        summary = cancel_run(store, batch, "run-1", REASON)

        stub.assert_no_pending_responses()
    assert summary == CancelSummary(
        terminated=[live["job-running0"], live["job-submitted"]], never_submitted=["job-claimed0"], errors=[]
    )
    records = {r.job_id: r for r in store.run_jobs("run-1")}
    assert (records["job-claimed0"].status, records["job-claimed0"].status_reason) == (
        JobStatus.FAILED,
        f"cancelled before submission: {REASON}",
    )
    assert records["job-succeeded"].status == JobStatus.SUCCEEDED
    assert records["job-failed00"].status_reason == "exit 1"
    assert store.cancelled_runs(["run-1", "run-2"]) == {"run-1": REASON}


def test_bulk_terminate_reports_per_job_errors(store: JobStore) -> None:
    batch = bulk_batch_client()
    with Stubber(batch) as stub:
        answer_job_b_gone(stub, "Job job-b not found")

        errors = terminate_jobs(batch, ["job-a", "job-b"], REASON)

    assert errors == {"job-b": "ClientException Job job-b not found"}


def test_bulk_terminate_goes_50_jobs_a_call_and_survives_a_failed_call() -> None:
    batch = bulk_batch_client()
    job_ids = [f"job-{i:03d}" for i in range(120)]
    with Stubber(batch) as stub:
        stub.add_response(
            "terminate_jobs",
            {"successful": job_ids[:50], "errors": []},
            {"jobs": job_ids[:50], "reason": "r"},
        )
        stub.add_client_error(
            "terminate_jobs",
            service_error_code="TooManyRequestsException",
            service_message="Too Many Requests",
            http_status_code=429,
            expected_params={"jobs": job_ids[50:100], "reason": "r"},
        )
        stub.add_response(
            "terminate_jobs",
            {"successful": job_ids[100:], "errors": []},
            {"jobs": job_ids[100:], "reason": "r"},
        )

        errors = terminate_jobs(batch, job_ids, "r")

        stub.assert_no_pending_responses()
    assert sorted(errors) == job_ids[50:100]
    assert all(
        e.startswith("TerminateJobs failed: An error occurred (TooManyRequestsException)")
        for e in errors.values()
    )


def test_the_reason_is_cut_to_batchs_limit() -> None:
    batch = bulk_batch_client()
    with Stubber(batch) as stub:
        stub.add_response(
            "terminate_jobs",
            {"successful": ["job-a"], "errors": []},
            {"jobs": ["job-a"], "reason": "r" * 1024},
        )

        assert terminate_jobs(batch, ["job-a"], "r" * 5000) == {}


def test_without_terminate_jobs_each_job_is_terminated_on_its_own(
    store: JobStore, batch_env: BatchEnv, tmp_path: Path
) -> None:
    # GIVEN a botocore whose Batch model predates TerminateJobs, and real (moto) Batch jobs
    batch = batch_client_without_terminate_jobs(tmp_path)
    job_ids = [
        batch.submit_job(
            jobName=f"job-{i}", jobQueue=batch_env.job_queue, jobDefinition=batch_env.job_definition
        )["jobId"]
        for i in range(2)
    ]
    for index, batch_job_id in enumerate(job_ids):
        spec = model(minimal_spec(job_id=f"job-live-{index}"))
        store.claim(spec, "t", 300)
        store.mark_submitted(spec, batch_job_id, None)
    sent = record_calls(batch, "TerminateJob")

    # WHEN the run is cancelled
    summary = cancel_run(store, batch, "run-1", REASON)

    # THEN TerminateJob was called once per live job, and moto accepted each
    assert sent == [{"jobId": job_ids[0], "reason": REASON}, {"jobId": job_ids[1], "reason": REASON}]
    assert summary == CancelSummary(terminated=job_ids, never_submitted=[], errors=[])


def test_per_job_terminate_errors_are_collected_not_raised(tmp_path: Path, aws: None) -> None:
    batch = batch_client_without_terminate_jobs(tmp_path)
    with Stubber(batch) as stub:
        stub.add_client_error(
            "terminate_job", "ClientException", "Job job-a not found", 400, {"jobId": "job-a", "reason": "r"}
        )
        stub.add_response("terminate_job", {}, {"jobId": "job-b", "reason": "r"})

        errors = terminate_jobs(batch, ["job-a", "job-b"], "r")

    assert errors == {
        "job-a": "An error occurred (ClientException) when calling the TerminateJob operation: Job job-a not found"
    }


def test_a_cancel_with_nothing_to_terminate_calls_no_batch_api(store: JobStore) -> None:
    batch = bulk_batch_client()
    with Stubber(batch):  # any call would fail: no response is queued
        summary = cancel_run(store, batch, "run-empty", REASON)

    assert summary == CancelSummary()


def test_a_cancel_counts_as_terminated_only_the_jobs_batch_accepted(store: JobStore) -> None:
    # GIVEN two submitted jobs of a run, one of which Batch no longer knows
    for index, batch_job_id in enumerate(["job-a", "job-b"]):
        spec = model(minimal_spec(job_id=f"job-live-{index}"))
        store.claim(spec, "t", 300)
        store.mark_submitted(spec, batch_job_id, None)
    batch = bulk_batch_client()
    with Stubber(batch) as stub:
        answer_job_b_gone(stub, "gone")

        # WHEN the run is cancelled
        summary = cancel_run(store, batch, "run-1", REASON)

    # THEN the summary says which job was terminated and why the other was not
    assert summary == CancelSummary(
        terminated=["job-a"], never_submitted=[], errors=["job-b: ClientException gone"]
    )
