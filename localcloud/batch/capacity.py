"""vCPU capacity of compute environments, and which RUNNABLE job starts next."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from typing import Any

from .lifecycle import RuntimeJob

_Key = tuple[str, float]  # (job queue ARN, vCPUs): the jobs of a group fit, or do not fit, alike


class Capacity:
    """Tracks vCPUs in use per compute environment; a job runs on the first CE of its queue with room.

    RUNNABLE jobs wait in one heap per (queue, vCPUs) group, so starting a job costs O(log n) and a
    dispatch round stops looking at a group as soon as its head does not fit (10,000 array children
    waiting for 2 vCPUs are not re-sorted on every job end).
    """

    def __init__(self, default_vcpus: int, elastic: bool) -> None:
        self._default = default_vcpus
        self._elastic = elastic
        self._used: dict[str, float] = {}
        self.runnable: dict[str, RuntimeJob] = {}  # job id -> RUNNABLE job waiting for room
        self._groups: dict[_Key, list[tuple[int, int, int, RuntimeJob]]] = {}
        self._entries = itertools.count()  # a job may be queued twice (retry): never compare records

    def max_vcpus(self, ce: Any) -> float:
        resources = ce.compute_resources or {}
        value = resources.get("maxvCpus")
        return float(value) if value else float(self._default)

    def used(self, ce_arn: str) -> float:
        return self._used.get(ce_arn, 0.0)

    def add_runnable(self, record: RuntimeJob) -> None:
        self.runnable[record.job_id] = record
        group = self._groups.setdefault((record.job.job_queue.arn, record.vcpus), [])
        heapq.heappush(group, (-record.priority, record.seq, next(self._entries), record))

    def discard_runnable(self, job_id: str) -> None:
        """Forget a RUNNABLE job (cancelled); its heap entry is skipped when it comes up."""
        self.runnable.pop(job_id, None)

    def place(self, record: RuntimeJob) -> str | None:
        """Reserve room for ``record``; returns the CE's ARN, or None when it has to wait."""
        queue = record.job.job_queue
        if self._elastic:
            return queue.environments[0].arn if queue.environments else "elastic"
        for ce in queue.environments:
            if getattr(ce, "state", "ENABLED") == "DISABLED":
                continue
            if self.used(ce.arn) + record.vcpus <= self.max_vcpus(ce) + 1e-9:
                self._used[ce.arn] = self.used(ce.arn) + record.vcpus
                return str(ce.arn)
        return None

    def release(self, record: RuntimeJob) -> None:
        if record.ce_arn is None:
            return
        if not self._elastic:
            self._used[record.ce_arn] = max(0.0, self.used(record.ce_arn) - record.vcpus)
        record.ce_arn = None

    def _head(self, key: _Key) -> RuntimeJob | None:
        group = self._groups.get(key)
        while group:
            record = group[0][3]
            if self.runnable.get(record.job_id) is record:
                return record
            heapq.heappop(group)  # cancelled, or a duplicate entry of a job that already started
        self._groups.pop(key, None)
        return None

    def dispatch(self) -> Iterator[tuple[RuntimeJob, str]]:
        """Yield (job, CE ARN) for each RUNNABLE job that gets room now, in AWS's order: higher queue
        priority, then schedulingPriority, then submission order. A smaller job may start past a
        bigger one that does not fit."""
        heads: list[tuple[int, int, int, _Key]] = []
        for key in list(self._groups):
            record = self._head(key)
            if record is not None:
                heads.append((-int(record.job.job_queue.priority or 0), -record.priority, record.seq, key))
        heapq.heapify(heads)
        while heads:
            key = heapq.heappop(heads)[3]
            record = self._head(key)
            if record is None:
                continue
            ce_arn = self.place(record)
            if ce_arn is None:
                continue  # the whole group waits for this round
            heapq.heappop(self._groups[key])
            del self.runnable[record.job_id]
            yield record, ce_arn
            nxt = self._head(key)
            if nxt is not None:
                queue_priority = -int(nxt.job.job_queue.priority or 0)
                heapq.heappush(heads, (queue_priority, -nxt.priority, nxt.seq, key))
