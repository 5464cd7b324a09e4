"""Jobs past the grace period that can no longer start: made FAILED in the table, with the reason.

A Snakemake job is never awaited forever. Past --aws-basic-batch-sls-status-grace-seconds after its
spec was sent, a job is settled if
- it has no record at all (the spec never reached the submit function): FAILED only if still absent
  (a consistent read first), so a delivery that comes later finds a terminal record and submits
  nothing: no Batch job nobody tracks;
- it was claimed but never submitted, and the claim is older than the submit function's lease (a
  function that died on the spec until its message went to the dead-letter queue).
The record then says why, for Snakemake's message and for `aws-basic-batch-sls show` alike.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from sls_contract.status import JobStatus
from sls_contract.store import JobStore
from sls_contract.submitter import CLAIM_LEASE_SECONDS

from .config import ControlPlane
from .messages import lost_message, stuck_message
from .status_reader import StatusReader


def settle_overdue(
    store: JobStore,
    reader: StatusReader,
    plane: ControlPlane,
    active: Iterable[Any],
    now: float | None = None,
) -> list[str]:
    """Settle the overdue jobs among `active` (SubmittedJobInfo); returns the job ids made FAILED."""
    now = now if now is not None else time.time()
    deadline = now - plane.status_grace_seconds
    overdue = [job for job in active if job.aux["sent_at"] < deadline]
    missing = [job for job in overdue if job.external_jobid not in reader.latest]
    stuck = [
        job
        for job in overdue
        if (record := reader.latest.get(job.external_jobid)) is not None
        and record.status == JobStatus.SUBMITTING
        and not record.batch_job_id
    ]
    if missing:
        found = reader.read_consistently([job.external_jobid for job in missing])
        missing = [job for job in missing if job.external_jobid not in found]
    settled = [
        job.external_jobid
        for job in missing
        if store.fail_if_absent(reader.run_id, job.external_jobid, lost_message(plane, job))
    ]
    claimed_before = int(now) - CLAIM_LEASE_SECONDS
    settled += [
        job.external_jobid
        for job in stuck
        if store.fail_stuck_claim(
            reader.run_id, job.external_jobid, stuck_message(plane, job), claimed_before
        )
    ]
    if settled:
        reader.read_consistently(settled)
    return settled
