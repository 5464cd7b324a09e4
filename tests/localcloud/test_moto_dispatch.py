"""moto's request dispatch with the local cloud's patch: same routing, no directory listing per request."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import moto
import pytest

from localcloud import moto_dispatch


def test_requests_reach_their_services_without_listing_motos_package(
    client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    moto_dispatch.install()
    sqs, dynamodb, batch = client("sqs"), client("dynamodb"), client("batch")

    def each_service() -> tuple[Any, ...]:
        return sqs.list_queues(), dynamodb.list_tables(), batch.describe_job_queues()

    each_service()  # first requests load each service's model (listed once, then cached)
    listings: list[str] = []
    real_listdir = os.listdir
    monkeypatch.setattr(os, "listdir", lambda path=".": listings.append(str(path)) or real_listdir(path))

    for _ in range(3):
        queues, tables, job_queues = each_service()

    assert queues["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "TableNames" in tables and "jobQueues" in job_queues
    assert os.path.dirname(moto.__file__) not in listings
