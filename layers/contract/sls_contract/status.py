"""Job statuses and the order in which a job moves through them."""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    # Ours: the submit function claimed the spec and is calling SubmitJob.
    SUBMITTING = "SUBMITTING"
    # AWS Batch's own statuses, in lifecycle order.
    SUBMITTED = "SUBMITTED"
    PENDING = "PENDING"
    RUNNABLE = "RUNNABLE"
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


_RANK = {
    JobStatus.SUBMITTING: 0,
    JobStatus.SUBMITTED: 1,
    JobStatus.PENDING: 2,
    JobStatus.RUNNABLE: 3,
    JobStatus.STARTING: 4,
    JobStatus.RUNNING: 5,
    JobStatus.SUCCEEDED: 9,
    JobStatus.FAILED: 9,
}

TERMINAL = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED})

# A retried Batch job goes RUNNING -> RUNNABLE again, so status alone is not monotonic. Each finished
# attempt is appended to the job's `attempts` list, so (finished attempts, status rank) is.
_ATTEMPT_WEIGHT = 10


def progress(status: JobStatus, finished_attempts: int = 0) -> int:
    """A number that only grows over a job's life; a state with a lower number is stale."""
    return finished_attempts * _ATTEMPT_WEIGHT + _RANK[status]
