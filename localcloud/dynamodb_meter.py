"""Read and write request units, counted in the DynamoDB moto server as on-demand DynamoDB bills them.

moto's ReturnConsumedCapacity answers a fixed 1.0 (0.5 for GetItem) whatever the item, so the units
are counted here, inside moto's backend, from the items themselves (moto's `Item.size()`: attribute
names plus values, DynamoDB's item size rules):

- a write (PutItem, UpdateItem, DeleteItem): ceil(KB) of the larger of the item before and after,
  also when its condition fails (DynamoDB charges a failed conditional write for the item's size);
  plus, for each global secondary index, the index writes the change causes: one put or delete
  when the item enters or leaves the index, two (delete + put) when an index key attribute changes,
  one when only projected attributes change (index entry = projected attributes + 100 bytes);
- a read: GetItem and each key of a BatchGetItem ceil(item size / 4 KB) (an absent item still
  costs the minimum); a Query ceil(sum of the returned items' sizes / 4 KB); x 0.5 when eventually
  consistent.

Units are kept per partition key value (the jobs table's partition key is the run id, and its
`by_update` index, which the plugin's status Query reads, is partitioned by run id too), and served
as JSON at `GET /_localcloud/dynamodb-meter` of the server.
"""

from __future__ import annotations

import json
import math
import threading
import urllib.request
from collections.abc import Callable, Iterable
from typing import Any

PATH = "/_localcloud/dynamodb-meter"
_lock = threading.Lock()
_meter: dict[str, dict[str, float]] = {}
_consistent = threading.local()  # ConsistentRead of the BatchGetItem / GetItem being served


def _add(partition: str, **units: float) -> None:
    with _lock:
        into = _meter.setdefault(partition, {})
        for name, value in units.items():
            into[name] = into.get(name, 0) + value


def write_units(size: int) -> int:
    return max(1, math.ceil(size / 1024))


def read_units(size: int, consistent: bool) -> float:
    return max(1, math.ceil(size / 4096)) * (1.0 if consistent else 0.5)


def _partition(table: Any, key: dict[str, Any]) -> str:
    value = key.get(table.hash_key_attr, {})
    return str(next(iter(value.values()), "")) if isinstance(value, dict) else str(value)


def _snapshot(table: Any, item: Any) -> tuple[int, dict[str, tuple[Any, int]]]:
    """An item's size and, per global index it is in, (its index key values, its entry's size)."""
    if item is None:
        return 0, {}
    entries = {}
    for index in table.global_indexes:
        keys = [k["AttributeName"] for k in index.schema]
        if all(name in item.attrs for name in keys):
            values = tuple(repr(item.attrs[name].value) for name in keys)
            entries[index.name] = (values, index.project(item).size() + 100)
    return item.size(), entries


def _index_writes(before: dict[str, tuple[Any, int]], after: dict[str, tuple[Any, int]]) -> int:
    units = 0
    for name in set(before) | set(after):
        old, new = before.get(name), after.get(name)
        if old and new:
            if old[0] != new[0]:
                units += write_units(old[1]) + write_units(new[1])
            elif old[1] != new[1]:
                units += write_units(max(old[1], new[1]))
        elif (changed := old or new) is not None:  # the index entry only one side has
            units += write_units(changed[1])
    return units


def _metered_write(original: Callable, key_of: Callable[[Any, tuple, dict], dict[str, Any]]) -> Callable:
    def write(self: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
        from moto.dynamodb.exceptions import ConditionalCheckFailed

        table = self.get_table(table_name)
        key = key_of(table, args, kwargs)
        partition = _partition(table, key)
        try:
            hash_key, range_key = self.get_keys_value(table, key)
            old = table.get_item(hash_key, range_key)
        except Exception:  # a bad key: moto's own call below raises the real error
            old = None
        before_size, before = _snapshot(table, old)
        try:
            result = original(self, table_name, *args, **kwargs)
        except ConditionalCheckFailed:
            _add(partition, write_units=write_units(before_size), writes=1, failed_writes=1)
            raise
        try:
            hash_key, range_key = self.get_keys_value(table, key)
            new = table.get_item(hash_key, range_key)
        except Exception:
            new = None
        after_size, after = _snapshot(table, new)
        units = write_units(max(before_size, after_size)) + _index_writes(before, after)
        _add(partition, write_units=units, writes=1)
        return result

    return write


def _item_key(table: Any, args: tuple, kwargs: dict) -> dict[str, Any]:
    attrs = args[0] if args else kwargs["item_attrs"]
    names = [table.hash_key_attr, *([table.range_key_attr] if table.range_key_attr else [])]
    return {name: attrs[name] for name in names if name in attrs}


def _key(table: Any, args: tuple, kwargs: dict) -> dict[str, Any]:
    return args[0] if args else kwargs["key"]


def install() -> None:
    """Count in this process's moto DynamoDB, and answer GET PATH (call after moto_dispatch.install)."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    DynamoDBBackend.put_item = _metered_write(DynamoDBBackend.put_item, _item_key)
    DynamoDBBackend.update_item = _metered_write(DynamoDBBackend.update_item, _key)
    DynamoDBBackend.delete_item = _metered_write(DynamoDBBackend.delete_item, _key)

    original_get = DynamoDBBackend.get_item

    def get_item(self: Any, table_name: str, keys: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        item = original_get(self, table_name, keys, *args, **kwargs)
        table = self.get_table(table_name)
        size = table.get_item(*self.get_keys_value(table, keys)).size() if item is not None else 0
        units = read_units(size, getattr(_consistent, "value", False))
        _add(_partition(table, keys), read_units=units, reads=1)
        return item

    DynamoDBBackend.get_item = get_item

    original_query = DynamoDBBackend.query

    def query(self: Any, table_name: str, hash_key_dict: Any, *args: Any, **kwargs: Any) -> Any:
        result = original_query(self, table_name, hash_key_dict, *args, **kwargs)
        items: Iterable[Any] = result[0]
        size = sum(item.size() for item in items)
        consistent = bool(kwargs.get("consistent_read", False))
        partition = str(next(iter(hash_key_dict.values()), "")) if isinstance(hash_key_dict, dict) else ""
        _add(partition, read_units=read_units(size, consistent), reads=1)
        return result

    DynamoDBBackend.query = query

    for action in ("get_item", "batch_get_item"):
        handler = getattr(DynamoHandler, action)

        def consistent_read(self: Any, _handler: Callable = handler) -> Any:
            body = self.body
            flags = [body.get("ConsistentRead")] + [
                t.get("ConsistentRead") for t in body.get("RequestItems", {}).values()
            ]
            _consistent.value = any(bool(f) for f in flags)
            try:
                return _handler(self)
            finally:
                _consistent.value = False

        setattr(DynamoHandler, action, consistent_read)

    dispatch = DomainDispatcherApplication.__call__

    def serve(self: Any, environ: dict[str, Any], start_response: Callable) -> Iterable:
        if environ.get("PATH_INFO") != PATH:
            return dispatch(self, environ, start_response)
        with _lock:
            body = json.dumps(_meter).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]

    DomainDispatcherApplication.__call__ = serve


def read(url: str | None, partition: str) -> dict[str, float]:
    """The units counted so far for one partition key value (a run id); {} without a meter."""
    if not url:
        return {}
    try:
        with urllib.request.urlopen(f"{url}{PATH}", timeout=10) as response:
            return json.loads(response.read()).get(partition, {})
    except OSError:
        return {}
