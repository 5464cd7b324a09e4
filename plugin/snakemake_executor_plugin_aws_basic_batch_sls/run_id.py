"""New run ids: a UTC timestamp (so they sort by start) and a random suffix (so they do not collide)."""

from __future__ import annotations

import time
import uuid


def new_run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + uuid.uuid4().hex[:8]
