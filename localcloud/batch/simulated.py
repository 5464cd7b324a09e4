"""Simulated jobs: no process, a timer, then success (or a fault rule's exit code) on a completion thread.

Containers end in parallel on AWS, so simulated jobs end on a few threads (config.completion_workers):
the success callback (e.g. a GetItem and a PutObject over HTTP) would otherwise run one job at a
time, and 10,000 array children ending together would take minutes to report.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from .describe import describe
from .lifecycle import Attempt, RuntimeJob
from .logs import put_lines

if TYPE_CHECKING:
    from .engine import Engine

logger = logging.getLogger(__name__)


class SimulatedRuns:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._completions = ThreadPoolExecutor(
            max_workers=engine.config.completion_workers, thread_name_prefix="localcloud-batch-completion"
        )

    def start(self, record: RuntimeJob, attempt: Attempt) -> None:
        """RUNNING now; ends after the fault rule's run_seconds or config.simulate_seconds (never if it hangs)."""
        engine, behaviour = self.engine, attempt.behaviour
        engine.mark_running(record, attempt)
        if behaviour is not None and behaviour.hang:
            put_lines(
                record.account, record.region, attempt.log_stream, ["[localcloud] job hangs (fault rule)"]
            )
            return
        if behaviour is not None and behaviour.run_seconds is not None:
            seconds = behaviour.run_seconds
        else:
            seconds = engine.config.simulate_seconds if engine.config.simulates(record.name) else 0.0
        attempt.timers.append(
            engine.scheduler.call_later(seconds, lambda: self._complete_later(record, attempt))
        )

    def stop(self) -> None:
        self._completions.shutdown(wait=False, cancel_futures=True)

    def _complete_later(self, record: RuntimeJob, attempt: Attempt) -> None:
        with contextlib.suppress(RuntimeError):  # the engine is stopping: the pool takes no more work
            self._completions.submit(self._logged, self._done, record, attempt)

    @staticmethod
    def _logged(fn: Callable[[RuntimeJob, Attempt], None], record: RuntimeJob, attempt: Attempt) -> None:
        try:
            fn(record, attempt)
        except Exception:  # as on the scheduler thread: one failing job must not go unnoticed
            logger.exception("completing simulated job %s failed", record.job_id)

    def _done(self, record: RuntimeJob, attempt: Attempt) -> None:
        engine, behaviour = self.engine, attempt.behaviour
        if behaviour is not None and behaviour.fail is not None:
            line = f"[localcloud] job fails with exit code {behaviour.fail} (fault rule)"
            put_lines(record.account, record.region, attempt.log_stream, [line])
            with engine.lock:
                engine.finish_attempt(record, attempt, behaviour.fail)
            return
        with engine.lock:
            if attempt.finished:
                return
            snapshot = describe(record, with_tags=False)
        try:
            engine.config.on_simulated_success(snapshot)  # outside the lock: it may call moto over HTTP
        except Exception as exc:
            logger.exception("on_simulated_success failed for %s", record.job_id)
            with engine.lock:
                engine.finish_attempt(record, attempt, 1, container_reason=f"on_simulated_success: {exc}")
            return
        put_lines(record.account, record.region, attempt.log_stream, ["[localcloud] simulated job succeeded"])
        with engine.lock:
            engine.finish_attempt(record, attempt, 0)
