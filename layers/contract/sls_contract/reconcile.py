"""Reconciling jobs whose records went quiet: ask Batch (DescribeJobs, 100 ids a call) and apply
the answer exactly like a state-change event. EventBridge delivers at least once, but an event can
still be lost for good (a rule edited mid-run, a DLQ nobody redrives); without this such a job
would be awaited forever."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import limits
from .events import BatchJobStateChangeDetail
from .record import JobRecord, record_from_item, serialize
from .status import TERMINAL
from .store import JobStore


@dataclass
class ReconcileSummary:
    checked: int = 0
    updated: int = 0
    lost: list[str] = field(default_factory=list)


def reconcile(store: JobStore, batch: Any, records: Iterable[JobRecord]) -> ReconcileSummary:
    """Bring non-terminal records in line with what Batch says about their jobs."""
    summary = ReconcileSummary()
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


def stale_records(store: JobStore, older_than_iso: str, max_pages: int = 10) -> list[JobRecord]:
    """Non-terminal job records not updated since `older_than_iso` (a bounded Scan, for the schedule)."""
    request: dict[str, Any] = {
        "TableName": store.table_name,
        "FilterExpression": "#updated < :cutoff AND attribute_exists(#batch) AND NOT (#status IN (:s, :f))",
        "ExpressionAttributeNames": {"#updated": "updated_at", "#batch": "batch_job_id", "#status": "status"},
        "ExpressionAttributeValues": {
            ":cutoff": serialize(older_than_iso),
            ":s": serialize("SUCCEEDED"),
            ":f": serialize("FAILED"),
        },
    }
    records: list[JobRecord] = []
    for _ in range(max_pages):
        response = store.client.scan(**request)
        records.extend(record_from_item(item) for item in response["Items"])
        if "LastEvaluatedKey" not in response:
            break
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    return records


class ReconcileRequest(BaseModel):
    """What the plugin sends (asynchronous Invoke) about its own quiet jobs."""

    model_config = ConfigDict(extra="forbid")

    run_id: str
    job_ids: list[str] = Field(max_length=limits.BATCH_DESCRIBE_JOBS_MAX)
