"""Reconciling jobs whose records went quiet: ask Batch (DescribeJobs, 100 ids a call) and apply
the answer exactly like a state-change event. EventBridge delivers at least once, but an event can
still be lost for good (a rule edited mid-run, a DLQ nobody redrives); without this such a job
would be awaited forever."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import limits
from .arrays import with_batch_ids
from .events import BatchJobStateChangeDetail
from .job_record import JobRecord
from .job_store import JobStore
from .status import TERMINAL

if TYPE_CHECKING:
    from mypy_boto3_batch import BatchClient


@dataclass
class ReconcileSummary:
    checked: int = 0
    updated: int = 0
    lost: list[str] = field(default_factory=list)


def reconcile(store: JobStore, batch: BatchClient, records: Iterable[JobRecord]) -> ReconcileSummary:
    """Bring non-terminal records in line with what Batch says about their jobs."""
    summary = ReconcileSummary()
    # An array child with no event of its own yet is asked about by its Batch id from the array's.
    records = with_batch_ids(store, records)
    by_batch_id = {r.batch_job_id: r for r in records if r.batch_job_id and r.status not in TERMINAL}
    ids = list(by_batch_id)
    for start in range(0, len(ids), limits.BATCH_DESCRIBE_JOBS_MAX):
        chunk = ids[start : start + limits.BATCH_DESCRIBE_JOBS_MAX]
        jobs = batch.describe_jobs(jobs=chunk)["jobs"]
        summary.checked += len(chunk)
        for job in jobs:
            try:
                detail = BatchJobStateChangeDetail.model_validate(job)
            except ValidationError:
                continue  # a status this contract does not know yet: leave the record as it is
            if detail.record_keys() is not None and store.apply_state_change(detail):
                summary.updated += 1
        for missing in set(chunk) - {job["jobId"] for job in jobs}:
            record = by_batch_id[missing]
            reason = (
                f"AWS Batch has no job {missing} any more (expired or deleted); its end was never recorded"
            )
            if store.mark_failed(record.run_id, record.job_id, reason):
                summary.lost.append(missing)
    return summary


def stale_records(store: JobStore, older_than_iso: str) -> list[JobRecord]:
    """Live jobs (submitted, not final) not updated since `older_than_iso`, for the schedule: a Query
    of each shard of the sparse live-jobs index, all pages. The index holds only live jobs, so the
    sweep reads them all whatever the size of the table (a Scan read a bounded prefix of it)."""
    records = store.stale_live_records(older_than_iso)
    return [r for r in records if r.batch_job_id and r.status not in TERMINAL]


class ReconcileRequest(BaseModel):
    """What the plugin sends (asynchronous Invoke) about its own quiet jobs."""

    model_config = ConfigDict(extra="forbid")

    run_id: str
    job_ids: list[str] = Field(max_length=limits.BATCH_DESCRIBE_JOBS_MAX)
