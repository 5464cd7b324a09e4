"""Jobs past the grace period that can no longer start: made FAILED in the table, with the reason.

A Snakemake job is never awaited forever. Past --aws-basic-batch-sls-status-grace-seconds after its
spec was sent (plus, for a spec sent behind others of the same run still on the queue, the time those
take at the SubmitJob quota: messages.grace_seconds), a job is settled if
- it has no record at all (the spec never reached the submit function): FAILED only if still absent
  (a consistent read first), so a delivery that comes later finds a terminal record and submits
  nothing: no Batch job nobody tracks;
- it was claimed but never submitted, and the claim is older than the submit function's lease (a
  function that died on the spec until its message went to the dead-letter queue).
The record then says why, for Snakemake's message and for `aws-basic-batch-sls show` alike. A job that
went as a child of an array job is settled through the array's record, which its spec made: an array
that is FAILED before reaching Batch fails its children (sls_contract.arrays.resolve_children).
"""

from __future__ import annotations

import time
from collections.abc import Container, Iterable
from typing import Any

from sls_contract.job_store import JobStore
from sls_contract.status import JobStatus
from sls_contract.submitter import CLAIM_LEASE_SECONDS

from .config import ControlPlane
from .messages import grace_seconds, lost_message, stuck_message
from .status_reader import StatusReader


def queue_positions(queued: set[str], recorded: Container[str], sending: list[str]) -> dict[str, int]:
    """How many of this run's specs are on the queue ahead of each spec in `sending`: those in `queued`
    (sent before) without a record yet, then those before it in `sending`. Updates `queued` in place."""
    queued.intersection_update({spec_id for spec_id in queued if spec_id not in recorded})
    ahead = {spec_id: len(queued) + i for i, spec_id in enumerate(sending)}
    queued.update(ahead)
    return ahead


def settle_overdue(
    store: JobStore,
    reader: StatusReader,
    plane: ControlPlane,
    active: Iterable[Any],
    now: float | None = None,
) -> list[str]:
    """Settle the overdue jobs among `active` (SubmittedJobInfo); returns the job ids made FAILED."""
    now = now if now is not None else time.time()
    # One entry per spec on the queue: a job's own, or its array's (first child stands for it).
    submissions: dict[str, Any] = {}
    for job in active:
        if job.aux["sent_at"] + grace_seconds(plane, job) >= now:
            continue
        record = reader.latest.get(job.external_jobid)
        submissions.setdefault(
            record.array_job_id if record and record.array_job_id else job.external_jobid, job
        )
    missing = [spec_id for spec_id in submissions if spec_id not in reader.latest]
    stuck = [
        spec_id
        for spec_id in submissions
        if (record := reader.latest.get(spec_id)) is not None
        and record.status == JobStatus.SUBMITTING
        and not record.batch_job_id
        and record.array_job_id is None  # a child is submitted by its array, never claimed itself
    ]
    if missing:
        found = reader.read_consistently(missing)
        missing = [spec_id for spec_id in missing if spec_id not in found]
    settled = [
        spec_id
        for spec_id in missing
        if store.fail_if_absent(reader.run_id, spec_id, lost_message(plane, submissions[spec_id], spec_id))
    ]
    claimed_before = int(now) - CLAIM_LEASE_SECONDS
    settled += [
        spec_id
        for spec_id in stuck
        if store.fail_stuck_claim(
            reader.run_id, spec_id, stuck_message(plane, submissions[spec_id], spec_id), claimed_before
        )
    ]
    if settled:
        reader.read_consistently(settled)
    return settled
