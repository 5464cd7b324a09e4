"""Deterministic fault injection: SubmitJob throttling and event duplication, reordering, loss, delay."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from moto.core.exceptions import JsonRESTError

from .config import BatchRuntimeConfig


class TooManyRequestsException(JsonRESTError):
    """What Batch returns when SubmitJob exceeds the account's rate (HTTP 429)."""

    code = 429

    def __init__(self, message: str = "Too Many Requests") -> None:
        super().__init__("TooManyRequestsException", message)


class SubmitGate:
    """Decides whether a SubmitJob call is throttled: a seeded coin flip, then a token bucket."""

    def __init__(self, config: BatchRuntimeConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._rate = config.submit_throttle_rate
        self._tps = config.submit_tps
        self._rng = random.Random(f"{config.seed}:submit")
        self._terminate_rate = config.terminate_throttle_rate
        self._terminate_rng = random.Random(f"{config.seed}:terminate")
        self.submit_throttled = 0  # calls refused so far, for reports
        self.terminate_throttled = 0
        self._lock = threading.Lock()
        self._tokens = float(config.submit_tps or 0.0)
        self._last = clock()

    def check(self) -> None:
        """Raise TooManyRequestsException when this call is to be throttled."""
        with self._lock:
            if self._rate and self._rng.random() < self._rate:
                self.submit_throttled += 1
                raise TooManyRequestsException()
            if self._tps is None:
                return
            now = self._clock()
            self._tokens = min(float(self._tps), self._tokens + (now - self._last) * self._tps)
            self._last = now
            if self._tokens < 1.0:
                self.submit_throttled += 1
                raise TooManyRequestsException()
            self._tokens -= 1.0

    def check_terminate(self) -> None:
        """Raise TooManyRequestsException when this TerminateJob(s) call is to be throttled."""
        with self._lock:
            if self._terminate_rate and self._terminate_rng.random() < self._terminate_rate:
                self.terminate_throttled += 1
                raise TooManyRequestsException()


@dataclass(frozen=True)
class EventPlan:
    """What happens to one state-change event: dropped, or delivered (copies) times after delay."""

    drop: bool
    copies: int
    hold: bool
    delays: tuple[float, ...]


def plan_event(config: BatchRuntimeConfig, job_name: str, status: str, attempt: int) -> EventPlan:
    """The fate of the event of ``job_name`` entering ``status`` during ``attempt`` (1-based).

    Deterministic per (seed, job name, status, attempt) whatever the interleaving of jobs, so a test can
    predict what a queue receives. An array child's ``job_name`` is ``<name>:<index>`` (its parent's is the
    plain name): see :func:`localcloud.batch.events.fault_key`.
    """
    rng = random.Random(f"{config.seed}:{job_name}:{status}:{attempt}")
    drop = rng.random() < config.event_drop_rate
    copies = 2 if rng.random() < config.event_duplicate_rate else 1
    hold = rng.random() < config.event_reorder_rate
    delays = tuple(rng.uniform(0.0, config.event_delay_seconds) for _ in range(copies))
    return EventPlan(drop=drop, copies=copies, hold=hold and not drop, delays=delays)


def expected_delivery(
    config: BatchRuntimeConfig, job_name: str, statuses: list[tuple[str, int]]
) -> list[str]:
    """The order in which a queue receives a job's events (no delay), given its (status, attempt) path."""
    out: list[str] = []
    held: list[str] = []
    for status, attempt in statuses:
        plan = plan_event(config, job_name, status, attempt)
        if plan.drop:
            continue
        if plan.hold:
            held.extend([status] * plan.copies)
            continue
        out.extend([status] * plan.copies)
        out.extend(held)
        held = []
    return out + held
