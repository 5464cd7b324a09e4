"""One state-change event -> the job's record, whatever order and however often events arrive."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum

from pydantic import ValidationError

from .errors import describe_validation_error
from .events import parse_state_change
from .record import JOB_ID_ENV, RUN_ID_ENV
from .store import JobStore


class Recorded(StrEnum):
    APPLIED = "APPLIED"
    STALE = "STALE"  # duplicate, older than what the record holds, or after a terminal state
    FOREIGN = "FOREIGN"  # a job this stack did not submit (same queue, someone else's job)
    UNREADABLE = "UNREADABLE"  # recorded as FAILED on the job it names, with the reason


@dataclass(frozen=True)
class RecordResult:
    outcome: Recorded
    keys: tuple[str, str] | None = None
    status: str | None = None


def _keys_from_raw(body: str) -> tuple[str, str] | None:
    """Our job keys from an event that failed validation, read as plain JSON."""
    try:
        env = json.loads(body)["detail"]["container"]["environment"]
        values = {kv["name"]: kv["value"] for kv in env}
        return values[RUN_ID_ENV], values[JOB_ID_ENV]
    except (ValueError, KeyError, TypeError):
        return None


def record_state_change(store: JobStore, body: str) -> RecordResult:
    try:
        event = parse_state_change(body)
    except ValidationError as exc:
        keys = _keys_from_raw(body)
        if keys is None:
            return RecordResult(Recorded.FOREIGN)
        reason = f"unreadable Batch state-change event: {describe_validation_error(exc)}"
        store.mark_failed(*keys, reason)
        return RecordResult(Recorded.UNREADABLE, keys=keys)
    keys = event.detail.record_keys()
    if keys is None:
        return RecordResult(Recorded.FOREIGN, status=event.detail.status)
    applied = store.apply_state_change(event.detail)
    return RecordResult(Recorded.APPLIED if applied else Recorded.STALE, keys, event.detail.status)
