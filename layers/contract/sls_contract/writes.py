"""DynamoDB update expressions and conditional writes on the jobs table: the one write path of JobStore
and RunStore. A write whose condition fails is stale or a duplicate, not an error: it returns False."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from .job_record import serialize

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CONDITIONAL_CHECK_FAILED = "ConditionalCheckFailedException"
STATUS = "status"

_deserializer = TypeDeserializer()


def deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def is_conditional_failure(exc: ClientError) -> bool:
    return exc.response["Error"]["Code"] == CONDITIONAL_CHECK_FAILED


def status_not_in(statuses: Iterable[StrEnum]) -> tuple[str, dict[str, str]]:
    """`NOT (#status IN (:failed, :succeeded))` and its values, from the enum members (sorted, so the
    expression is the same every time)."""
    values = {f":{status.value.lower()}": status.value for status in sorted(statuses)}
    return f"NOT (#{STATUS} IN ({', '.join(values)}))", values


def update_expression(
    assign: Mapping[str, Any], if_absent: Mapping[str, Any] = {}, remove: tuple[str, ...] = ()
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """SET a = :a, ... plus b = if_not_exists(b, :b) (None values are skipped), then REMOVE c, ...
    (either part may be empty, not both)."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    clauses = []
    for fields, clause in ((assign, "#{0} = :{0}"), (if_absent, "#{0} = if_not_exists(#{0}, :{0})")):
        for field, value in fields.items():
            if value is None:
                continue
            names[f"#{field}"] = field
            values[f":{field}"] = serialize(value)
            clauses.append(clause.format(field))
    actions = ["SET " + ", ".join(clauses)] if clauses else []
    if remove:
        names.update({f"#{field}": field for field in remove})
        actions.append("REMOVE " + ", ".join(f"#{field}" for field in remove))
    return " ".join(actions), names, values


def update_item(
    client: DynamoDBClient,
    table_name: str,
    key: Mapping[str, Any],
    assign: Mapping[str, Any],
    if_absent: Mapping[str, Any] = {},
    remove: tuple[str, ...] = (),
    condition: str | None = None,
    condition_names: Mapping[str, str] = {},
    condition_values: Mapping[str, Any] = {},
    before: dict[str, Any] | None = None,
) -> bool:
    """One UpdateItem; False when the condition failed. `before`, if given, receives the item as it
    was before a successful write."""
    expression, names, values = update_expression(assign, if_absent, remove)
    request: dict[str, Any] = {
        "TableName": table_name,
        "Key": dict(key),
        "UpdateExpression": expression,
        "ExpressionAttributeNames": {**names, **condition_names},
    }
    all_values = {**values, **{k: serialize(v) for k, v in condition_values.items()}}
    if all_values:
        request["ExpressionAttributeValues"] = all_values
    if condition:
        request["ConditionExpression"] = condition
    if before is not None:
        request["ReturnValues"] = "ALL_OLD"
    try:
        response = client.update_item(**request)
    except ClientError as exc:
        if is_conditional_failure(exc):
            return False
        raise
    if before is not None:
        before.update(deserialize(response.get("Attributes", {})))
    return True


def put_new_item(client: DynamoDBClient, table_name: str, item: Mapping[str, Any], absent: str) -> bool:
    """One PutItem unless the item exists (has the attribute `absent`); False if it does."""
    try:
        client.put_item(
            TableName=table_name,
            Item={k: serialize(v) for k, v in item.items()},
            ConditionExpression=f"attribute_not_exists(#{absent})",
            ExpressionAttributeNames={f"#{absent}": absent},
        )
    except ClientError as exc:
        if is_conditional_failure(exc):
            return False
        raise
    return True
