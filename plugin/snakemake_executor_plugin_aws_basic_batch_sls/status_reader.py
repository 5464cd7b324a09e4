"""Job states from DynamoDB: one incremental Query per status round, no Batch calls.

Each round asks the table's updates index for the records of this run changed since the last round
(with an overlap, since index reads are eventually consistent and writers' clocks differ slightly).
A job with no record at all past the grace period gets one strongly consistent BatchGetItem (100 ids a
call) before it is declared lost.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sls_contract.arrays import resolve_children
from sls_contract.job_record import ISO_FORMAT, JobRecord
from sls_contract.job_store import JobStore
from sls_contract.status import TERMINAL

# A record stamped before the watermark can still become visible after it: the index is eventually
# consistent (usually well under a second) and writers stamp updated_at just before their write lands,
# on clocks a little apart. The overlap re-reads that window every round, so it is also the round's
# cost: at 1,000 jobs changing at once, every record written in the window comes back again. 10 s
# covers index lag and skew many times over; a record missed anyway is still found by the reconcile
# path (no news for reconcile_after_seconds -> DescribeJobs -> a fresh write).
WATERMARK_OVERLAP_SECONDS = 10
_START = "0"  # sorts before any ISO timestamp
# Quiet jobs asked about in one status round: one consistent read and one asynchronous reconcile
# invocation per 100 (DescribeJobs' limit), so at most 6 calls; a larger backlog takes more rounds.
QUIET_PER_ROUND = 300


def _shift(iso: str, seconds: int) -> str:
    """ISO timestamp minus `seconds` (same format as record.now_iso)."""
    stamp = datetime.strptime(iso, ISO_FORMAT) - timedelta(seconds=seconds)
    return stamp.strftime(ISO_FORMAT)


@dataclass
class StatusReader:
    store: JobStore
    run_id: str
    latest: dict[str, JobRecord] = field(default_factory=dict)
    # time.monotonic() when each job's record last moved forward, by this process's clock
    changed_at: dict[str, float] = field(default_factory=dict)
    calls: int = 0
    _watermark: str = _START
    _asked_at: dict[str, float] = field(default_factory=dict)
    # array job id -> the job ids of its children seen so far
    _children: dict[str, set[str]] = field(default_factory=dict)

    def refresh(self) -> None:
        """One round: pull what changed since the last round into `latest`."""
        since = _START if self._watermark == _START else _shift(self._watermark, WATERMARK_OVERLAP_SECONDS)
        records = self.store.changed_since(self.run_id, since)
        self.calls += 1
        for record in records:
            known = self.latest.get(record.job_id)
            if known is None or record.progress >= known.progress:
                self.latest[record.job_id] = record
            if known is None or record.progress > known.progress:
                self.changed_at[record.job_id] = time.monotonic()
            if record.updated_at and record.updated_at > self._watermark:
                self._watermark = record.updated_at
        self._resolve_children(records)

    def quiet(self, job_ids: list[str], after_seconds: float, limit: int = QUIET_PER_ROUND) -> list[str]:
        """Jobs with a live record that has not moved for `after_seconds` (asked about once a period),
        at most `limit` a round, quietest first: the rest are asked in the next rounds, so a backlog
        of thousands never makes one status round thousands of calls."""
        now = time.monotonic()
        since = {
            job_id: max(self.changed_at.get(job_id, now), self._asked_at.get(job_id, 0.0))
            for job_id in job_ids
            if (record := self.latest.get(job_id)) is not None
            and record.batch_job_id
            and record.status not in TERMINAL
        }
        quiet = sorted((j for j, t in since.items() if now - t > after_seconds), key=since.__getitem__)[
            :limit
        ]
        self._asked_at.update(dict.fromkeys(quiet, now))
        return quiet

    def read_consistently(self, job_ids: list[str]) -> dict[str, JobRecord]:
        """Strongly consistent read of these jobs (ones the index has not shown, or shown late);
        returns those that exist and takes them as the latest."""
        found = self.store.get_records(self.run_id, job_ids)
        self.calls += max(1, -(-len(job_ids) // 100))
        self.latest.update(found)
        self._resolve_children(found.values())
        return found

    def _resolve_children(self, changed: Iterable[JobRecord]) -> None:
        """The changed children, and every child of a changed array, as their arrays show them."""
        touched: set[str] = set()
        for record in changed:
            if record.array_job_id:
                self._children.setdefault(record.array_job_id, set()).add(record.job_id)
                touched.add(record.job_id)
            touched |= self._children.get(record.job_id, set())
        if touched:
            resolve_children(self.latest, only=touched)
