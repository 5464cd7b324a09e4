"""One thread that runs callbacks at given times (a heap of timers), so 1,000 jobs cost no threads."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)


class Scheduler:
    """Runs ``fn()`` at monotonic time ``when``; callbacks run one at a time on the scheduler thread."""

    def __init__(self, name: str = "localcloud-batch-scheduler") -> None:
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._cancelled: set[int] = set()
        self._counter = itertools.count()
        self._cond = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def call_at(self, when: float, fn: Callable[[], None]) -> int:
        with self._cond:
            handle = next(self._counter)
            heapq.heappush(self._heap, (when, handle, fn))
            self._cond.notify()
            return handle

    def call_later(self, delay: float, fn: Callable[[], None]) -> int:
        return self.call_at(time.monotonic() + max(0.0, delay), fn)

    def call_soon(self, fn: Callable[[], None]) -> int:
        return self.call_at(time.monotonic(), fn)

    def cancel(self, handle: int | None) -> None:
        if handle is None:
            return
        with self._cond:
            self._cancelled.add(handle)

    def _next(self) -> Callable[[], None] | None:
        with self._cond:
            while not self._stopping:
                if not self._heap:
                    self._cond.wait()
                    continue
                when, handle, fn = self._heap[0]
                delay = when - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                heapq.heappop(self._heap)
                if handle in self._cancelled:
                    self._cancelled.discard(handle)
                    continue
                return fn
            return None

    def _loop(self) -> None:
        while (fn := self._next()) is not None:
            try:
                fn()
            except Exception:  # a failing callback must not stop every other job
                logger.exception("scheduled callback %r failed", fn)

    def stop(self, timeout: float = 10.0) -> None:
        with self._cond:
            self._stopping = True
            self._heap.clear()
            self._cond.notify_all()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)
