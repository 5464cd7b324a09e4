"""What the local Batch itself holds: every job it was given, whoever asked, and what became of it."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from localcloud.cloud import LocalCloud
from sls_contract.job_record import JOB_ID_ENV, RUN_ID_ENV, child_job_id

TERMINAL = ("SUCCEEDED", "FAILED")
T = TypeVar("T")


@dataclass(frozen=True)
class BatchJob:
    job_id: str
    name: str
    status: str
    created: float  # epoch seconds, when Batch accepted SubmitJob
    stopped: float | None
    run_id: str | None  # from the job's environment: which run and Snakemake job it is
    spec_job_id: str | None
    reason: str | None
    attempts: int
    array_index: int | None = None  # an array child's index (its Batch id is `<parent id>:<index>`)
    array_size: int | None = None  # an array parent's number of children

    @property
    def active(self) -> bool:
        return self.status not in TERMINAL


def batch_jobs(cloud: LocalCloud, run_id: str | None = None) -> list[BatchJob]:
    """Every job the local Batch has (of one run, when given), read under the engine's lock."""
    engine = cloud.batch.engine
    with engine.lock:
        records = list(engine.records.values())
        jobs = []
        for r in records:
            env = {e["name"]: e["value"] for e in r.container.get("environment") or []}
            spec_job_id = env.get(JOB_ID_ENV)  # a child has its array's environment: its own record key
            if r.array_index is not None and spec_job_id is not None:  # is the array's, '-', its index
                spec_job_id = child_job_id(spec_job_id, r.array_index)
            jobs.append(
                BatchJob(
                    job_id=r.job_id,
                    name=r.name,
                    status=r.status,
                    created=r.created_ms / 1000,
                    stopped=r.stopped_ms / 1000 if r.stopped_ms else None,
                    run_id=env.get(RUN_ID_ENV),
                    spec_job_id=spec_job_id,
                    reason=r.status_reason,
                    attempts=len(r.attempts),
                    array_index=r.array_index,
                    array_size=r.array.size if r.array is not None else None,
                )
            )
    return [j for j in jobs if run_id is None or j.run_id == run_id]


def jobs_per_spec(jobs: list[BatchJob]) -> Counter[tuple[str | None, str | None]]:
    """(run id, Snakemake job id) -> how many Batch jobs Batch holds for it."""
    return Counter((j.run_id, j.spec_job_id) for j in jobs)


def poll(predicate: Callable[[], T | None], timeout: float, interval: float = 0.5) -> T | None:
    """The predicate's first value that is neither None nor False, or None at the deadline."""
    deadline = time.monotonic() + timeout
    while (value := predicate()) is None or value is False:
        if time.monotonic() > deadline:
            return None
        time.sleep(interval)
    return value


def wait_settled(cloud: LocalCloud, run_id: str, timeout: float) -> tuple[list[BatchJob], float]:
    """Poll until no job of the run is active in Batch (or the deadline); (jobs, seconds waited)."""
    started = time.monotonic()
    poll(lambda: not any(j.active for j in batch_jobs(cloud, run_id)), timeout)
    return batch_jobs(cloud, run_id), time.monotonic() - started
