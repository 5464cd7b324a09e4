"""No job is awaited forever: lost specs and stuck claims become FAILED records with the reason, and a
spec declared lost can no longer become a Batch job nobody tracks."""

import time
from types import SimpleNamespace
from typing import Any

import boto3
import pytest

from sls_contract.status import JobStatus
from sls_contract.store import JobStore
from sls_contract.submitter import CLAIM_LEASE_SECONDS
from snakemake_executor_plugin_aws_basic_batch_sls.overdue import settle_overdue
from snakemake_executor_plugin_aws_basic_batch_sls.status_reader import StatusReader
from tests.support.specs import minimal_spec, model

GRACE = 300
PLANE = SimpleNamespace(status_grace_seconds=GRACE, dead_letter_queue_url="https://sqs/dlq")


@pytest.fixture
def store(jobs_table: str) -> JobStore:
    return JobStore(boto3.client("dynamodb"), jobs_table)


def sent(job_id: str, seconds_ago: float) -> Any:
    """Snakemake's SubmittedJobInfo for a spec the plugin sent (only what settle_overdue reads)."""
    return SimpleNamespace(external_jobid=job_id, aux={"sent_at": time.time() - seconds_ago, "job_name": "j"})


def test_a_spec_with_no_record_past_the_grace_period_is_failed_and_can_no_longer_be_submitted(store):
    reader = StatusReader(store, "run-1")
    spec = model(minimal_spec(job_id="lost-0001"))
    recent = sent("recent-0001", 10)

    assert settle_overdue(store, reader, PLANE, [sent(spec.job_id, GRACE + 5), recent]) == [spec.job_id]

    record = reader.latest[spec.job_id]
    assert record.status == JobStatus.FAILED
    assert record.status_reason.startswith("no record of job spec lost-0001 (j) 300 s after it was sent")
    assert "recent-0001" not in reader.latest  # still within its grace period
    # a delivery of the lost spec that comes later finds a final record: no Batch job
    assert store.claim(spec, "late-delivery", CLAIM_LEASE_SECONDS) is False


def test_a_claim_never_submitted_is_failed_once_its_lease_is_over(store):
    reader = StatusReader(store, "run-1")
    stuck = model(minimal_spec(job_id="stuck-0001"))
    submitted = model(minimal_spec(job_id="submitted-1"))
    store.claim(stuck, "t", CLAIM_LEASE_SECONDS)
    store.claim(submitted, "t", CLAIM_LEASE_SECONDS)
    store.mark_submitted(submitted, "batch-1", None)
    reader.refresh()
    jobs = [sent(stuck.job_id, GRACE + 5), sent(submitted.job_id, GRACE + 5)]

    # within the lease a live submit function may still be at it: nothing is settled
    assert settle_overdue(store, reader, PLANE, jobs) == []
    # past it (the function died on the spec until its message went to the dead-letter queue)
    later = time.time() + CLAIM_LEASE_SECONDS + 1
    assert settle_overdue(store, reader, PLANE, jobs, now=later) == [stuck.job_id]

    assert reader.latest[stuck.job_id].status == JobStatus.FAILED
    assert "never submitted to Batch" in reader.latest[stuck.job_id].status_reason
    assert "https://sqs/dlq" in reader.latest[stuck.job_id].status_reason
    assert reader.latest[submitted.job_id].status == JobStatus.SUBMITTED  # a Batch job: the reconcile path's
