"""Stopping a run: no queued spec is submitted afterwards, and every submitted job is terminated."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from . import limits
from .arrays import resolve_children
from .job_store import JobStore
from .status import TERMINAL

if TYPE_CHECKING:
    from mypy_boto3_batch import BatchClient


@dataclass
class CancelSummary:
    terminated: list[str] = field(default_factory=list)  # Batch accepted the terminate request
    never_submitted: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def terminate_jobs(batch: BatchClient, job_ids: Sequence[str], reason: str) -> dict[str, str]:
    """Terminate (or cancel, if still queued) jobs; returns {job id: why not} for the jobs Batch
    refused or that a failed call left untouched. Never raises for a job or a call.

    Uses the bulk TerminateJobs (50 ids a call) where this botocore has it, else TerminateJob.
    """
    reason = reason[: limits.BATCH_REASON_MAX]
    failed: dict[str, str] = {}
    if "TerminateJobs" in batch.meta.service_model.operation_names:
        for start in range(0, len(job_ids), limits.BATCH_TERMINATE_JOBS_MAX):
            chunk = list(job_ids[start : start + limits.BATCH_TERMINATE_JOBS_MAX])
            try:
                response = batch.terminate_jobs(jobs=chunk, reason=reason)
            except ClientError as exc:
                failed.update(dict.fromkeys(chunk, f"TerminateJobs failed: {exc}"))
                continue
            # TerminateJobsErrorDetail is {job, code, message} in botocore's model.
            failed.update(
                {
                    str(err.get("job")): f"{err.get('code')} {err.get('message', '')}".strip()
                    for err in response.get("errors", [])
                }
            )
        return failed
    for job_id in job_ids:
        try:
            batch.terminate_job(jobId=job_id, reason=reason)
        except ClientError as exc:
            failed[job_id] = str(exc)
    return failed


def describe_failures(failed: dict[str, str]) -> list[str]:
    return [f"{job_id}: {why}" for job_id, why in failed.items()]


def cancel_run(store: JobStore, batch: BatchClient, run_id: str, reason: str) -> CancelSummary:
    """Mark the run cancelled (the submit function checks the mark), then stop what was submitted.

    A spec being submitted at this very moment is caught by the submit function, which checks the
    mark again after SubmitJob and terminates the job it just made.
    """
    store.request_cancel(run_id, reason)
    summary = CancelSummary()
    to_terminate = []
    records = {record.job_id: record for record in store.run_jobs(run_id)}
    submitted_arrays = {job_id for job_id, r in records.items() if r.is_array() and r.batch_job_id}
    resolve_children(records)
    for record in records.values():
        if record.status in TERMINAL or record.array_job_id in submitted_arrays:
            # An array's children end with it: terminating the array terminates every one of them.
            continue
        if record.batch_job_id:
            to_terminate.append(record.batch_job_id)
        else:
            store.mark_failed(run_id, record.job_id, f"cancelled before submission: {reason}")
            summary.never_submitted.append(record.job_id)
    failed = terminate_jobs(batch, to_terminate, reason)
    summary.terminated = [job_id for job_id in to_terminate if job_id not in failed]
    summary.errors = describe_failures(failed)
    return summary
