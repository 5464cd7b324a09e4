"""Jobs waiting in RUNNABLE for long: said once, with what Batch says and what to check.

On AWS Batch a job waits in RUNNABLE while no compute environment of its queue has room for it:
the environments are busy (it will start), or no instance type they may launch offers its vCPUs,
memory or GPUs (it never will). Jobs too big for every environment's maxvCpus are refused at
submission (sls_contract.queue_capacity); this names the rest, so a wait is never silent.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sls_contract.job_record import ISO_FORMAT, JobRecord
from sls_contract.status import JobStatus


def long_waits(
    records: Iterable[JobRecord], threshold_seconds: int, warned: set[str], now: datetime | None = None
) -> str | None:
    """One warning for the jobs RUNNABLE for at least `threshold_seconds` not warned about yet."""
    # Timestamps in ISO_FORMAT sort as they compare: one cut-off string, no parsing per job.
    cutoff = ((now or datetime.now(UTC)) - timedelta(seconds=threshold_seconds)).strftime(ISO_FORMAT)
    waiting = [
        r
        for r in records
        if r.status == JobStatus.RUNNABLE
        and r.job_id not in warned
        and r.updated_at
        and r.updated_at <= cutoff
    ]
    if not waiting:
        return None
    warned.update(r.job_id for r in waiting)
    rules = sorted({r.rule_label() for r in waiting})
    reasons = sorted({r.status_reason for r in waiting if r.status_reason})
    said = f"; Batch says: {'; '.join(reasons)}" if reasons else ""
    return (
        f"{len(waiting)} job(s) waiting in RUNNABLE for over {threshold_seconds // 60 or threshold_seconds} "
        f"{'min' if threshold_seconds >= 60 else 's'} ({', '.join(rules[:5])}{', ...' if len(rules) > 5 else ''})"
        f"{said}. Batch has no room for them yet: if the compute environments are busy they will start; if "
        "no instance type of the queue offers their vCPUs, memory or GPUs they never will (check the queue's "
        "compute environments: maxvCpus, instance types, state)"
    )
