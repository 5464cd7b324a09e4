"""Scheduled EventBridge rules fire: ``rate(N minute(s)|hour(s)|day(s))`` on a timer thread.

On AWS a rate rule first fires about one period after it is created, then every period. Each firing
puts a "Scheduled Event" (source aws.events, resources [rule ARN], detail {}) to the rule's targets
only. ``cron(...)`` expressions are not emulated (logged once); :meth:`Schedules.fire` fires any
scheduled rule now, for tests.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from moto.events.models import Rule, events_backends

logger = logging.getLogger(__name__)
RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> float | None:
    """Seconds between firings of a rate expression; None for anything else (cron)."""
    match = RATE.match(expression.strip())
    if not match:
        return None
    return int(match.group(1)) * UNIT_SECONDS[match.group(2).rstrip("s")]


def scheduled_event(rule: Rule) -> dict[str, Any]:
    now = time.time()
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": rule.account_id,
        "time": now,
        "region": rule.region_name,
        "resources": [rule.arn],
        "detail": {},
        "ingestion-time": now,  # moto's InputTransformer reads it; targets never see it
    }


def scheduled_rules() -> Iterator[Rule]:
    for account in list(events_backends.values()):
        for backend in list(account.values()):
            for bus in list(backend.event_buses.values()):
                for rule in list(bus.rules.values()):
                    if rule.scheduled_expression:
                        yield rule


class Schedules:
    def __init__(self, deliver: Callable[[Rule, dict[str, Any]], None], tick_s: float = 1.0) -> None:
        self._deliver = deliver
        self._tick_s = tick_s
        self._next: dict[str, float] = {}
        self._warned: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="event-schedules", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)

    def fire(self, rule_name: str) -> dict[str, Any]:
        """Put the rule's scheduled event to its targets now; returns the event."""
        for rule in scheduled_rules():
            if rule.name == rule_name:
                event = scheduled_event(rule)
                self._deliver(rule, event)
                return event
        raise KeyError(f"no scheduled rule named {rule_name}")

    def _run(self) -> None:
        while not self._stop.wait(self._tick_s):
            try:
                self._tick(time.monotonic())
            except Exception:  # keep the timer alive; a broken target must not stop schedules
                logger.exception("scheduled rules tick failed")

    def _tick(self, now: float) -> None:
        for rule in scheduled_rules():
            period = rate_seconds(rule.scheduled_expression)
            if period is None:
                if rule.arn not in self._warned:
                    self._warned.add(rule.arn)
                    logger.warning("%s: %s is not emulated", rule.name, rule.scheduled_expression)
                continue
            due = self._next.setdefault(rule.arn, now + period)
            if now >= due:
                self._next[rule.arn] = now + period
                if rule.state == "ENABLED":
                    self._deliver(rule, scheduled_event(rule))
