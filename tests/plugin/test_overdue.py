"""No job is awaited forever: lost specs and stuck claims become FAILED records with the reason, and a
spec declared lost can no longer become a Batch job nobody tracks."""

import time
from types import SimpleNamespace
from typing import Any

import boto3
import pytest

from sls_contract.arrays import child_items
from sls_contract.job_store import JobStore
from sls_contract.status import JobStatus
from sls_contract.submitter import CLAIM_LEASE_SECONDS
from snakemake_executor_plugin_aws_basic_batch_sls.array_plan import make_array
from snakemake_executor_plugin_aws_basic_batch_sls.overdue import queue_positions, settle_overdue
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


def test_jobs_of_an_array_spec_that_never_arrived_fail_through_the_arrays_record(store):
    array = make_array(
        [model(minimal_spec(job_id=f"{n:032x}", snakemake_jobid=n)) for n in range(3)], "python", None
    )
    store.put_items(child_items(array.children, array.spec.job_id, store.ttl_seconds))
    reader = StatusReader(store, "run-1")
    reader.refresh()
    jobs = [sent(child.job_id, GRACE + 5) for child in array.children]

    # one settlement for the one spec on the queue, not one per job
    assert settle_overdue(store, reader, PLANE, jobs) == [array.spec.job_id]

    children = [reader.latest[child.job_id] for child in array.children]
    assert {child.status for child in children} == {JobStatus.FAILED}
    assert children[0].status_reason.startswith(
        f"its array job {array.spec.job_id} was not submitted: no record of the array job spec "
        f"{array.spec.job_id} of job {array.children[0].job_id} (j) 300 s after it was sent"
    )
    assert store.claim(array.spec, "late-delivery", CLAIM_LEASE_SECONDS) is False


def test_children_of_a_submitted_array_are_never_settled_as_stuck(store):
    array = make_array(
        [model(minimal_spec(job_id=f"{n:032x}", snakemake_jobid=n)) for n in range(2)], "python", None
    )
    store.put_items(child_items(array.children, array.spec.job_id, store.ttl_seconds))
    store.claim(array.spec, "t", CLAIM_LEASE_SECONDS)
    store.mark_submitted(array.spec, "parent-1", None)
    reader = StatusReader(store, "run-1")
    reader.refresh()

    later = time.time() + CLAIM_LEASE_SECONDS + 1
    assert (
        settle_overdue(store, reader, PLANE, [sent(c.job_id, GRACE + 5) for c in array.children], now=later)
        == []
    )
    assert [reader.latest[c.job_id].batch_job_id for c in array.children] == ["parent-1:0", "parent-1:1"]


def test_a_spec_behind_thousands_on_the_queue_gets_the_time_they_take_at_the_submit_quota(store):
    # GIVEN a spec sent with 15,000 specs of its run queued ahead of it (300 s at 50 SubmitJob a second)
    reader = StatusReader(store, "run-1")
    behind = sent("behind-0001", GRACE + 5)
    behind.aux["queued_ahead"] = 15_000

    # WHEN the grace period alone is over THEN it is still waited for: the queue is draining
    assert settle_overdue(store, reader, PLANE, [behind]) == []
    # AND once the queue ahead of it would have drained too, it is declared lost, saying why so late
    later = time.time() + 300
    assert settle_overdue(store, reader, PLANE, [behind], now=later) == ["behind-0001"]
    reason = reader.latest["behind-0001"].status_reason
    assert "no record of job spec behind-0001 (j) 600 s (300 s of grace and 15000 specs" in reason


def test_queue_positions_count_this_runs_specs_sent_earlier_and_not_yet_recorded():
    queued: set[str] = set()
    assert queue_positions(queued, {}, ["a", "b", "c"]) == {"a": 0, "b": 1, "c": 2}
    # "a" and "b" have records by the next hand-off: only "c" is still ahead
    assert queue_positions(queued, {"a": 1, "b": 1}, ["d", "e"]) == {"d": 1, "e": 2}
    assert queued == {"c", "d", "e"}
