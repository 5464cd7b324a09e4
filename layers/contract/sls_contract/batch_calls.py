"""DynamoDB's batch calls on one table: BatchGetItem in chunks of 100 and BatchWriteItem in chunks of
25, each with its unprocessed remainder asked again (botocore has no paginator for them)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from . import limits
from .job_record import item_key, serialize

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Unprocessed keys/items: asked again this many times, backing off from 50 ms up to 2 s a round.
UNPROCESSED_ROUNDS = 8
UNPROCESSED_BACKOFF = 0.05
UNPROCESSED_BACKOFF_CAP = 2.0

_Call = Callable[[dict[str, Any]], tuple[list[dict[str, Any]], dict[str, Any]]]


class BatchCalls:
    def __init__(
        self, client: DynamoDBClient, table_name: str, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.client = client
        self.table_name = table_name
        self.sleep = sleep  # backoff between rounds of unprocessed keys or items

    def get(self, keys: list[tuple[str, str]]) -> list[dict[str, Any]]:
        """Consistent reads of (partition, sort) keys, 100 a BatchGetItem; items in no given order."""
        items: list[dict[str, Any]] = []
        for start in range(0, len(keys), limits.DYNAMODB_BATCH_GET_MAX):
            request: dict[str, Any] = {
                self.table_name: {
                    "Keys": [item_key(*key) for key in keys[start : start + limits.DYNAMODB_BATCH_GET_MAX]],
                    "ConsistentRead": True,
                }
            }
            items.extend(self._with_backoff("BatchGetItem", request, self._get_batch))
        return items

    def put(self, items: list[dict[str, Any]], concurrency: int = 1) -> None:
        """New items (plain values) with BatchWriteItem, 25 a call, up to `concurrency` calls at once;
        items DynamoDB leaves unprocessed are written again with backoff, as for BatchGetItem, then a
        throttling ClientError. Only for items nothing else can have written yet (an array's children,
        before the array is sent)."""
        requests = [
            {
                self.table_name: [
                    {"PutRequest": {"Item": {k: serialize(v) for k, v in item.items()}}}
                    for item in items[start : start + limits.DYNAMODB_BATCH_WRITE_MAX]
                ]
            }
            for start in range(0, len(items), limits.DYNAMODB_BATCH_WRITE_MAX)
        ]
        if concurrency <= 1 or len(requests) <= 1:
            for request in requests:
                self._with_backoff("BatchWriteItem", request, self._write_batch)
            return
        with ThreadPoolExecutor(max_workers=min(concurrency, len(requests))) as pool:
            # list(): the first call that raised re-raises here, after the others finished
            list(
                pool.map(
                    lambda request: self._with_backoff("BatchWriteItem", request, self._write_batch), requests
                )
            )

    def _write_batch(self, request: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        response = self.client.batch_write_item(RequestItems=request)
        return [], response.get("UnprocessedItems") or {}

    def _get_batch(self, request: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        response = self.client.batch_get_item(RequestItems=request)
        return response["Responses"].get(self.table_name, []), response.get("UnprocessedKeys") or {}

    def _with_backoff(self, operation: str, request: dict[str, Any], call: _Call) -> list[dict[str, Any]]:
        """A batch call and its unprocessed remainder asked again with exponential backoff and jitter,
        as AWS advises, at most UNPROCESSED_ROUNDS times; then a throttling ClientError, which every
        caller already treats as "try later"."""
        items: list[dict[str, Any]] = []
        for attempt in range(UNPROCESSED_ROUNDS + 1):
            if attempt:
                self.sleep(random.uniform(0, min(UNPROCESSED_BACKOFF_CAP, UNPROCESSED_BACKOFF * 2**attempt)))
            got, request = call(request)
            items.extend(got)
            if not request:
                return items
        left = request[self.table_name]
        left_count = len(left["Keys"]) if isinstance(left, dict) else len(left)
        raise ClientError(
            {
                "Error": {
                    "Code": "ProvisionedThroughputExceededException",
                    "Message": f"{left_count} items still unprocessed after {UNPROCESSED_ROUNDS} retries",
                }
            },
            operation,
        )
