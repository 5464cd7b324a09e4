"""vCPU capacity of compute environments, and which RUNNABLE job starts next."""

from __future__ import annotations

from typing import Any

from .lifecycle import JobRecord


class Capacity:
    """Tracks vCPUs in use per compute environment; a job runs on the first CE of its queue with room."""

    def __init__(self, default_vcpus: int, elastic: bool) -> None:
        self._default = default_vcpus
        self._elastic = elastic
        self._used: dict[str, float] = {}
        self.runnable: dict[str, JobRecord] = {}  # job id -> RUNNABLE job waiting for room

    def max_vcpus(self, ce: Any) -> float:
        resources = ce.compute_resources or {}
        value = resources.get("maxvCpus")
        return float(value) if value else float(self._default)

    def used(self, ce_arn: str) -> float:
        return self._used.get(ce_arn, 0.0)

    def place(self, record: JobRecord) -> str | None:
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

    def release(self, record: JobRecord) -> None:
        if record.ce_arn is None:
            return
        if not self._elastic:
            self._used[record.ce_arn] = max(0.0, self.used(record.ce_arn) - record.vcpus)
        record.ce_arn = None

    def dispatch_order(self) -> list[JobRecord]:
        """RUNNABLE jobs: higher queue priority, then schedulingPriority, then submission order."""
        return sorted(
            self.runnable.values(),
            key=lambda r: (-int(r.job.job_queue.priority or 0), -r.priority, r.seq),
        )
