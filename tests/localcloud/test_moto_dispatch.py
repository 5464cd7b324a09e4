"""moto's request dispatch with the local cloud's patch: same routing, no directory listing per request."""

from __future__ import annotations

import os
import threading
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


def test_a_failure_inside_moto_is_a_500_with_a_request_id(
    client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a moto backend call that raises (as moto's Batch did while SubmitJob added a job)
    from botocore.exceptions import ClientError
    from moto.batch.models import BatchBackend

    moto_dispatch.install()
    batch = client("batch")

    def broken(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("dictionary changed size during iteration")

    monkeypatch.setattr(BatchBackend, "describe_job_queues", broken)
    # WHEN a client calls it
    with pytest.raises(ClientError) as failure:
        batch.describe_job_queues()
    # THEN it gets a 500 that carries a request id, as AWS's errors do (Step Functions' task error
    # handling reads it), and the server goes on serving
    metadata = failure.value.response["ResponseMetadata"]
    assert metadata["HTTPStatusCode"] == 500
    assert metadata["RequestId"]
    monkeypatch.undo()
    assert "jobQueues" in batch.describe_job_queues()


def test_dynamodb_requests_do_not_overlap(
    client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a DynamoDB call that holds on until a second one arrives (or 1 s passes)
    from moto.dynamodb.models import DynamoDBBackend

    moto_dispatch.install()
    list_tables = DynamoDBBackend.list_tables
    guard, second_arrived = threading.Lock(), threading.Event()
    inside, peak, calls = [0], [0], [0]

    def watched(self: Any, *args: Any, **kwargs: Any) -> Any:
        with guard:
            inside[0] += 1
            peak[0] = max(peak[0], inside[0])
            calls[0] += 1
            first = calls[0] == 1
        if first:
            second_arrived.wait(1.0)  # without serialisation the other request gets in meanwhile
        else:
            second_arrived.set()
        with guard:
            inside[0] -= 1
        return list_tables(self, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "list_tables", watched)
    # WHEN two threads call it at once
    results: list[Any] = []
    threads = [
        threading.Thread(target=lambda: results.append(client("dynamodb").list_tables())) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # THEN both answered, one after the other
    assert len(results) == 2 and all("TableNames" in r for r in results)
    assert peak[0] == 1
