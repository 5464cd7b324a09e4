"""One state-change event -> the job's record, whatever order and however often events arrive."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from pydantic import ValidationError

from .errors import describe_validation_error
from .events import BatchJobStateChange, keys_from_environment, parse_state_change
from .job_store import JobStore
from .status import progress


class Recorded(StrEnum):
    APPLIED = "APPLIED"
    STALE = "STALE"  # duplicate, older than what the record holds, or after a terminal state
    FOREIGN = "FOREIGN"  # a job this stack did not submit (same queue, someone else's job)
    UNREADABLE = "UNREADABLE"  # recorded as FAILED on the job it names, with the reason
    SUPERSEDED = "SUPERSEDED"  # a later event of the same job in the same batch carries all it says


@dataclass(frozen=True)
class RecordResult:
    outcome: Recorded
    keys: tuple[str, str] | None = None
    status: str | None = None
    event: BatchJobStateChange | None = None  # the event, when it could be read


def _keys_from_raw(body: str, table: str) -> tuple[str, str] | None:
    """Our job keys from an event that failed validation, read as plain JSON (this stack's jobs only)."""
    try:
        detail = json.loads(body)["detail"]
        values = {kv["name"]: kv["value"] for kv in detail["container"]["environment"]}
        index = (detail.get("arrayProperties") or {}).get("index")
        return keys_from_environment(values, table, index if isinstance(index, int) else None)
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None


def _parse(body: str) -> BatchJobStateChange | ValidationError:
    try:
        return parse_state_change(body)
    except ValidationError as exc:  # pydantic's JSON parser also bounds nesting ("recursion limit")
        return exc


def _apply(store: JobStore, body: str, parsed: BatchJobStateChange | ValidationError) -> RecordResult:
    if isinstance(parsed, ValidationError):
        keys = _keys_from_raw(body, store.table_name)
        if keys is None:
            return RecordResult(Recorded.FOREIGN)
        reason = f"unreadable Batch state-change event: {describe_validation_error(parsed)}"
        store.mark_failed(*keys, reason)
        return RecordResult(Recorded.UNREADABLE, keys=keys)
    keys = parsed.detail.record_keys(store.table_name)
    if keys is None:
        return RecordResult(Recorded.FOREIGN, status=parsed.detail.status)
    applied = store.apply_state_change(parsed.detail)
    return RecordResult(Recorded.APPLIED if applied else Recorded.STALE, keys, parsed.detail.status, parsed)


def record_state_change(store: JobStore, body: str) -> RecordResult:
    return _apply(store, body, _parse(body))


@dataclass
class EventBatch:
    """The events of one delivery, each parsed once, with every job's events but its latest superseded.

    A record is written from one event's detail alone (status, attempts, exit code, reason, log
    stream, times), and Batch puts the job's whole state in every event; so of several events of a
    job in one batch only the one furthest along needs a write: the others would be overwritten by
    it, or refused as stale. A burst of RUNNABLE -> STARTING -> RUNNING costs one write, not three.
    If that write fails, its message is retried, and it alone carries everything the others said.
    """

    parsed: dict[str, BatchJobStateChange | ValidationError] = field(default_factory=dict)
    superseded: set[str] = field(default_factory=set)  # message ids a later event of their job covers

    @classmethod
    def of(cls, messages: Iterable[tuple[str, str]]) -> EventBatch:
        """From (message id, body) pairs in delivery order; on ties the first one delivered wins."""
        batch = cls()
        best: dict[tuple[str, str], tuple[int, str]] = {}  # job keys -> (progress, message id)
        for message_id, body in messages:
            parsed = batch.parsed[message_id] = _parse(body)
            # grouping only (a job id is a UUID per stack): whose job it is, _apply decides
            if isinstance(parsed, ValidationError) or (keys := parsed.detail.record_keys()) is None:
                continue
            rank = progress(parsed.detail.status, len(parsed.detail.attempts))
            if keys not in best:
                best[keys] = (rank, message_id)
            elif rank > best[keys][0]:
                batch.superseded.add(best[keys][1])
                best[keys] = (rank, message_id)
            else:
                batch.superseded.add(message_id)
        return batch

    def record(self, store: JobStore, message_id: str, body: str) -> RecordResult:
        parsed = self.parsed.get(message_id)
        if parsed is None:  # not part of the batch this was built from: handle on its own
            return record_state_change(store, body)
        if message_id in self.superseded and isinstance(parsed, BatchJobStateChange):
            return RecordResult(
                Recorded.SUPERSEDED, parsed.detail.record_keys(store.table_name), parsed.detail.status
            )
        return _apply(store, body, parsed)
