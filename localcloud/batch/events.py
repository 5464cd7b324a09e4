"""Publishes "Batch Job State Change" events on moto's default event bus, through the fault plan."""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from moto.events.models import events_backends

from .config import BatchRuntimeConfig
from .faults import plan_event
from .scheduler import Scheduler

logger = logging.getLogger(__name__)

TERMINAL = ("SUCCEEDED", "FAILED")


def fault_key(detail: dict[str, Any]) -> str:
    """The name the fault plan is drawn for: the job name, ``<name>:<index>`` for an array child (its
    children share the parent's name, yet each child's events are dropped or reordered on its own)."""
    index = (detail.get("arrayProperties") or {}).get("index")
    return str(detail["jobName"]) if index is None else f"{detail['jobName']}:{index}"


class EventPublisher:
    """Turns job snapshots into EventBridge events: source aws.batch, detail = DescribeJobs' job."""

    def __init__(self, config: BatchRuntimeConfig, scheduler: Scheduler) -> None:
        self._config = config
        self._scheduler = scheduler
        self._held: dict[str, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def publish(self, account: str, region: str, detail: dict[str, Any]) -> None:
        """Plan and schedule the delivery of one state change (``detail`` is a private snapshot)."""
        job_id = detail["jobId"]
        if self._config.on_event is not None:
            self._config.on_event(detail)
        attempt = len(detail.get("attempts", [])) + (0 if detail["status"] in TERMINAL else 1)
        plan = plan_event(self._config, fault_key(detail), detail["status"], attempt)
        if plan.drop:
            if detail["status"] in TERMINAL:  # events held back for a successor: it will never come
                self._scheduler.call_later(self._config.reorder_hold_seconds, lambda: self._release(job_id))
            return
        entry = {
            "Source": "aws.batch",
            "DetailType": "Batch Job State Change",
            "Detail": json.dumps(detail),
            "Resources": [detail["jobArn"]],
        }
        copies = [(account, region, entry, delay) for delay in plan.delays]
        with self._lock:
            if plan.hold:
                self._held.setdefault(job_id, []).extend({"copy": c} for c in copies)
                if detail["status"] in TERMINAL:  # no successor will come: release it a little later
                    self._scheduler.call_later(
                        self._config.reorder_hold_seconds, lambda: self._release(job_id)
                    )
                return
            held = self._held.pop(job_id, [])
        for copy in copies:
            self._schedule(*copy)
        for item in held:
            self._schedule(*item["copy"])

    def _release(self, job_id: str) -> None:
        with self._lock:
            held = self._held.pop(job_id, [])
        for item in held:
            self._schedule(*item["copy"])

    def flush(self) -> None:
        """Deliver every held event now (used on shutdown)."""
        with self._lock:
            held = [item for items in self._held.values() for item in items]
            self._held.clear()
        for item in held:
            account, region, entry, _ = item["copy"]
            self._deliver(account, region, entry)

    def _schedule(self, account: str, region: str, entry: dict[str, Any], delay: float) -> None:
        self._scheduler.call_later(delay, lambda: self._deliver(account, region, entry))

    @staticmethod
    def _deliver(account: str, region: str, entry: dict[str, Any]) -> None:
        try:
            results = events_backends[account][region].put_events([entry])
        except Exception:  # a broken rule target must not stop the job lifecycle
            logger.exception("could not put a Batch state-change event")
            return
        for result in results:
            if "ErrorCode" in result:
                logger.error("event rejected: %s", result)
