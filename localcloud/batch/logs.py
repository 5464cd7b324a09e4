"""Ships a job attempt's output file to CloudWatch Logs (moto's logs backend), as awslogs would."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from moto.logs.models import logs_backends

logger = logging.getLogger(__name__)

LOG_GROUP = "/aws/batch/job"
_MAX_BATCH = 1000


def ensure_stream(account: str, region: str, stream: str) -> None:
    """Create the /aws/batch/job group (if missing) and the attempt's stream."""
    backend = logs_backends[account][region]
    if LOG_GROUP not in backend.groups:
        try:
            backend.create_log_group(LOG_GROUP, tags={})
        except Exception:  # created concurrently by a client: fine
            logger.debug("log group %s already exists", LOG_GROUP)
    backend.ensure_log_stream(LOG_GROUP, stream)


def put_lines(account: str, region: str, stream: str, lines: list[str]) -> None:
    if not lines:
        return
    backend = logs_backends[account][region]
    now = int(time.time() * 1000)
    events = [{"timestamp": now, "message": line} for line in lines]
    for start in range(0, len(events), _MAX_BATCH):
        try:
            backend.put_log_events(LOG_GROUP, stream, events[start : start + _MAX_BATCH])
        except Exception:  # logs are best effort, never a reason to fail a job
            logger.exception("could not put log events to %s", stream)


class LogTail:
    """Reads complete lines appended to a file since the last read and pushes them to a stream."""

    def __init__(self, account: str, region: str, stream: str, path: Path) -> None:
        self.account, self.region, self.stream, self.path = account, region, stream, path
        self._offset = 0

    def pump(self, final: bool = False) -> None:
        try:
            with self.path.open("rb") as handle:
                handle.seek(self._offset)
                data = handle.read()
        except FileNotFoundError:
            return
        if not final:
            cut = data.rfind(b"\n") + 1
            data = data[:cut]
        self._offset += len(data)
        text = data.decode("utf-8", errors="replace")
        put_lines(self.account, self.region, self.stream, [line for line in text.splitlines() if line])
