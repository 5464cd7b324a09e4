"""Configuration of the local AWS Batch runtime: capacity, timing and fault knobs."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from sls_contract.limits import BATCH_SUBMIT_JOB_TPS


def _no_op(job: dict[str, Any]) -> None:
    """Default simulated-success callback: write nothing."""


def _default_base_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
    return {k: os.environ[k] for k in keep if k in os.environ}


@dataclass(frozen=True)
class JobBehaviour:
    """A fault rule for jobs whose name matches ``pattern`` (fnmatch glob).

    fail: exit with this code instead of running the command; hang: never finish (until timeout or
    TerminateJob); run_seconds: the attempt lasts at least this long (in simulate mode: exactly);
    attempts: apply only to these attempt numbers (1-based), all attempts when None.
    """

    pattern: str
    fail: int | None = None
    hang: bool = False
    run_seconds: float | None = None
    attempts: tuple[int, ...] | None = None

    @classmethod
    def parse(cls, rule: JobBehaviour | dict[str, Any]) -> JobBehaviour:
        if isinstance(rule, JobBehaviour):
            return rule
        data = dict(rule)
        pattern = data.pop("pattern", None) or data.pop("match", None)
        if not pattern:
            raise ValueError(f"job_behaviour rule needs a 'pattern': {rule!r}")
        attempts = data.pop("attempts", None)
        unknown = set(data) - {"fail", "hang", "run_seconds"}
        if unknown:
            raise ValueError(f"unknown job_behaviour keys {sorted(unknown)} in {rule!r}")
        return cls(pattern=pattern, attempts=tuple(attempts) if attempts else None, **data)

    def applies(self, job_name: str, attempt: int) -> bool:
        if not fnmatchcase(job_name, self.pattern):
            return False
        return self.attempts is None or attempt in self.attempts


@dataclass
class BatchRuntimeConfig:
    """How the local Batch runtime runs jobs and which AWS misbehaviours it injects."""

    work_root: Path | None = None  # scratch directories live here; a fresh temp dir when None
    base_env: dict[str, str] = field(default_factory=_default_base_env)  # the "image" environment
    default_vcpus: int = field(default_factory=lambda: os.cpu_count() or 1)  # CE without maxvCpus
    min_timeout_seconds: int = 60  # AWS rejects attemptDurationSeconds below 60; tests lower it
    # Multiplies attempt timeouts, so a test can use AWS's minimum (60 s) and still see the timeout
    # in a few seconds; the job's timeout and the reason AWS gives are unchanged.
    time_scale: float = 1.0
    kill_grace_seconds: float = 2.0  # SIGTERM -> SIGKILL, as ECS's stopTimeout
    poll_seconds: float = 0.05  # how often running processes are checked
    log_flush_seconds: float = 0.5  # how often job output is pushed to CloudWatch Logs
    keep_scratch: bool = True  # keep attempt scratch directories for inspection
    seed: int = 0
    event_duplicate_rate: float = 0.0
    event_reorder_rate: float = 0.0
    event_drop_rate: float = 0.0
    event_delay_seconds: float = 0.0
    reorder_hold_seconds: float = 1.0  # a held event with no successor is released after this
    submit_throttle_rate: float = 0.0
    submit_tps: float | None = BATCH_SUBMIT_JOB_TPS  # AWS's SubmitJob quota; None disables the token bucket
    terminate_throttle_rate: float = 0.0  # share of TerminateJob(s) calls refused with HTTP 429
    job_behaviour: list[JobBehaviour | dict[str, Any]] = field(default_factory=list)
    simulate: bool = False
    simulate_seconds: float = 1.0
    # Jobs whose name matches one of these globs run their real command even when simulate is on
    # (e.g. a coordinator: Snakemake itself, handing simulated jobs to this Batch).
    real_jobs: tuple[str, ...] = ()
    on_simulated_success: Callable[[dict[str, Any]], None] = _no_op
    # Threads that end simulated jobs (their on_simulated_success calls run in parallel, up to this many)
    completion_workers: int = 8
    # What a container image holds, locally: image name -> a directory copied into each attempt's
    # scratch directory ("*" for any image). The local cloud maps images to workflow directories.
    image_dirs: dict[str, Path] = field(default_factory=dict)
    # Called with every state-change event's detail as Batch emits it, before any fault knob applies.
    on_event: Callable[[dict[str, Any]], None] | None = None

    def image_dir(self, image: str) -> Path | None:
        return self.image_dirs.get(image) or self.image_dirs.get("*")

    def __post_init__(self) -> None:
        self.job_behaviour = [JobBehaviour.parse(rule) for rule in self.job_behaviour]
        rates = ("event_duplicate_rate", "event_reorder_rate", "event_drop_rate", "submit_throttle_rate")
        for name in (*rates, "terminate_throttle_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {value}")
        if self.work_root is not None:
            self.work_root = Path(self.work_root)

    def simulates(self, job_name: str) -> bool:
        return self.simulate and not any(fnmatchcase(job_name, pattern) for pattern in self.real_jobs)

    def behaviour_for(self, job_name: str, attempt: int, index: int | None = None) -> JobBehaviour | None:
        """The first rule that applies to this job attempt, if any; an array child (``index``) also
        matches a rule on ``<name>:<index>``, so one child can be made to fail or hang."""
        rules = (b for b in self.job_behaviour if isinstance(b, JobBehaviour))  # all are, after __post_init__
        names = (job_name,) if index is None else (job_name, f"{job_name}:{index}")
        return next(
            (b for b in rules if any(b.applies(n, attempt) for n in names)),
            None,
        )
