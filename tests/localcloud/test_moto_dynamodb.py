"""moto's DynamoDB with the local cloud's patch: UpdateItem gives the same results and errors, faster."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud import moto_dynamodb


@pytest.fixture
def table(client: Callable[..., Any]) -> tuple[Any, str]:
    moto_dynamodb.install()
    dynamodb, name = client("dynamodb"), f"t-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return dynamodb, name


KEY = {"pk": {"S": "run"}, "sk": {"S": "job"}}
EXPRESSION = (
    "SET #status = :status, #n = if_not_exists(#n, :zero) + :one, #first = if_not_exists(#first, :status)"
)
NAMES = {"#status": "status", "#n": "n", "#first": "first"}


def _update(dynamodb: Any, name: str, status: str, **extra: Any) -> dict[str, Any]:
    return dynamodb.update_item(
        TableName=name, Key=KEY, UpdateExpression=EXPRESSION, ExpressionAttributeNames=NAMES,
        ExpressionAttributeValues={":status": {"S": status}, ":zero": {"N": "0"}, ":one": {"N": "1"}},
        ReturnValues="ALL_NEW", **extra,
    )["Attributes"]  # fmt: skip


def test_the_same_expression_with_new_values_updates_with_those_values(table: tuple[Any, str]) -> None:
    # GIVEN one UpdateExpression, parsed once and reused
    dynamodb, name = table
    # WHEN it runs three times with different values, on a new item and then an existing one
    first = _update(dynamodb, name, "SUBMITTED")
    second = _update(dynamodb, name, "RUNNING")
    third = _update(
        dynamodb, name, "SUCCEEDED",
        ConditionExpression="#status <> :status",
    )  # fmt: skip
    # THEN each call saw its own values and the item as it was (nothing leaked between calls)
    assert (first["status"], first["n"], first["first"]) == (
        {"S": "SUBMITTED"},
        {"N": "1"},
        {"S": "SUBMITTED"},
    )
    assert (second["status"], second["n"], second["first"]) == (
        {"S": "RUNNING"},
        {"N": "2"},
        {"S": "SUBMITTED"},
    )
    assert (third["status"], third["n"]) == ({"S": "SUCCEEDED"}, {"N": "3"})
    with pytest.raises(ClientError, match="ConditionalCheckFailed"):
        _update(dynamodb, name, "SUCCEEDED", ConditionExpression="#status <> :status")


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("SET a = :v SET b = :v", 'The "SET" section can only be used once'),
        ("SET a = :v REMOVE c REMOVE d", 'The "REMOVE" section can only be used once'),
        ("SET a = :v, b = :v, a = :v", "Two document paths overlap"),
        ("SET a = :v REMOVE a", "Two document paths overlap"),
        ("SET a.b = :v REMOVE a", "Two document paths overlap"),
    ],
)
def test_invalid_update_expressions_are_still_rejected(
    table: tuple[Any, str], expression: str, message: str
) -> None:
    dynamodb, name = table
    with pytest.raises(ClientError, match=message) as failure:
        dynamodb.update_item(
            TableName=name, Key=KEY, UpdateExpression=expression, ExpressionAttributeValues={":v": {"S": "x"}}
        )
    assert failure.value.response["Error"]["Code"] == "ValidationException"


def test_every_clause_kind_in_one_valid_expression(table: tuple[Any, str]) -> None:
    dynamodb, name = table
    dynamodb.put_item(TableName=name, Item={**KEY, "gone": {"S": "x"}, "tags": {"SS": ["a", "b"]}})
    item = dynamodb.update_item(
        TableName=name, Key=KEY,
        UpdateExpression="SET s = :s REMOVE gone ADD tally :one DELETE tags :a",
        ExpressionAttributeValues={":s": {"S": "v"}, ":one": {"N": "1"}, ":a": {"SS": ["a"]}},
        ReturnValues="ALL_NEW",
    )["Attributes"]  # fmt: skip
    assert item == {**KEY, "s": {"S": "v"}, "tally": {"N": "1"}, "tags": {"SS": ["b"]}}


def test_items_of_every_attribute_type_come_back_as_they_were_written(table: tuple[Any, str]) -> None:
    # GIVEN an item with every attribute type, plain ones (copied as they are) and nested or binary
    # ones (moto's serializer)
    dynamodb, name = table
    item = {
        **KEY,
        "s": {"S": "text"}, "empty": {"S": ""}, "n": {"N": "42.5"}, "b": {"B": b"\x00\xffbytes"},
        "yes": {"BOOL": True}, "no": {"BOOL": False}, "nothing": {"NULL": True},
        "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2"]}, "bs": {"BS": [b"x", b"y"]},
        "l": {"L": [{"S": "in list"}, {"N": "1"}, {"M": {"deep": {"BOOL": True}}}, {"B": b"z"}]},
        "m": {"M": {"k": {"S": "v"}, "inner": {"L": [{"NULL": True}]}, "bin": {"B": b"q"}}},
    }  # fmt: skip
    dynamodb.put_item(TableName=name, Item=item)
    # WHEN it is read back by GetItem, Query and UpdateItem's ReturnValues
    got = dynamodb.get_item(TableName=name, Key=KEY)["Item"]
    queried = dynamodb.query(
        TableName=name, KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": KEY["pk"]}
    )["Items"]
    updated = dynamodb.update_item(
        TableName=name, Key=KEY, UpdateExpression="SET s = :s", ExpressionAttributeValues={":s": {"S": "new"}},
        ReturnValues="ALL_NEW",
    )["Attributes"]  # fmt: skip
    # THEN every value is the one written
    assert got == item
    assert queried == [item]
    assert updated == {**item, "s": {"S": "new"}}
