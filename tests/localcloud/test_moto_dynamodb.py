"""moto's DynamoDB with the local cloud's patch: UpdateItem gives the same results and errors, faster."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.comparisons import ConditionExpressionParser
from moto.dynamodb.parsing import expressions
from moto.dynamodb.parsing.ast_nodes import Node

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


# -- the expression tree copy and the condition lexing (same results as moto's own) ------------------

UPDATE_EXPRESSIONS = [
    "SET a = :v",
    "SET #s = :s, #n = if_not_exists(#n, :zero) + :one, #l = list_append(#l, :v) REMOVE #gone, x.y[2]",
    "SET a.b.c = :v, d[0] = :w - :v ADD tally :one DELETE tags :a",
    "REMOVE a, b SET c = if_not_exists(c, :v)",
]


def _shape(node: Any, root: Any, seen: dict[int, int]) -> Any:
    """A node tree as plain data: classes, attributes, and each parent as the position of its node."""
    if isinstance(node, list):
        return [_shape(member, root, seen) for member in node]
    if not isinstance(node, Node):
        return (type(node).__name__, node)
    seen.setdefault(id(node), len(seen))
    attrs = {
        name: seen.get(id(value)) if name == "parent" and value is not None else _shape(value, root, seen)
        for name, value in vars(node).items()
    }
    return (type(node).__name__, list(attrs), attrs)


def _all_ids(node: Any, into: set[int]) -> set[int]:
    into.add(id(node))
    for child in getattr(node, "children", None) or []:
        if isinstance(child, (Node, list)):
            _all_ids(child, into)
    return into


@pytest.mark.parametrize("expression", UPDATE_EXPRESSIONS)
def test_the_expression_tree_copy_is_what_deepcopy_makes(expression: str) -> None:
    # GIVEN a parsed UpdateExpression (the tree moto's validator copies at every call)
    tree = expressions.UpdateExpressionParser.make(expression)
    # WHEN it is copied by the patch's copy and by copy.deepcopy
    ours, theirs = moto_dynamodb._deepcopy(tree), copy.deepcopy(tree)
    # THEN both are the same tree: classes, attribute order, values and parent links
    assert _shape(ours, ours, {}) == _shape(theirs, theirs, {}) == _shape(tree, tree, {})
    # AND the copy shares no node with the original (it is changed in place by the validator)
    assert not _all_ids(ours, set()) & _all_ids(tree, set())


def test_the_tree_copy_honours_a_memo_and_copies_other_values_as_deepcopy_does() -> None:
    # GIVEN a tree with a mutable value moto would not put there, and a memo already holding a node
    tree = expressions.UpdateExpressionParser.make("SET a = :v")
    extra = {"k": [1, 2]}
    vars(tree)["extra"] = extra
    memo: dict[int, Any] = {}
    # WHEN copied with the memo
    copied = moto_dynamodb._deepcopy(tree, memo)
    # THEN other values are deep copies too, and the memo maps the original to its copy
    assert copied.extra == extra and copied.extra is not extra
    assert memo[id(tree)] is copied
    # AND values that are not expression nodes go to copy.deepcopy unchanged
    value = {"a": [1, {"b": 2}]}
    assert moto_dynamodb._deepcopy(value) == value and moto_dynamodb._deepcopy(value) is not value


CONDITIONS = [
    "attribute_not_exists(#progress) OR (#progress < :progress AND NOT #status IN (:a, :b))",
    "#status = :submitting AND attribute_not_exists(#batch_job_id) AND #claimed_at < :cutoff",
    "size(a.b[1]) >= :n AND c BETWEEN :lo AND :hi",
    "#s <> :s",
]


@pytest.mark.parametrize("expression", CONDITIONS)
def test_a_condition_is_lexed_into_the_same_tokens_every_time(expression: str) -> None:
    # GIVEN moto's own lexer and the patch's (lexed once per string)
    moto_dynamodb.install()
    original = moto_dynamodb._moto_lex(ConditionExpressionParser(expression, {}, {}))
    # WHEN the patched parser lexes the same string twice
    first = ConditionExpressionParser(expression, {}, {})._lex_condition_expression()
    second = ConditionExpressionParser(expression, {}, {})._lex_condition_expression()
    # THEN the tokens are moto's, each call with its own token lists
    assert list(first) == list(second) == list(original)
    assert all(a.children is not b.children for a, b in zip(first, second, strict=True))


def test_a_condition_moto_cannot_lex_fails_every_time() -> None:
    moto_dynamodb.install()
    for _ in range(2):
        with pytest.raises(ValueError, match="Cannot parse condition starting at"):
            ConditionExpressionParser("a = :v AND b ! :w", {}, {})._lex_condition_expression()


def test_one_condition_with_new_values_decides_by_those_values(table: tuple[Any, str]) -> None:
    # GIVEN one ConditionExpression string, lexed once and reused with different values
    dynamodb, name = table
    dynamodb.put_item(TableName=name, Item={**KEY, "progress": {"N": "2"}, "status": {"S": "RUNNING"}})
    condition = "attribute_not_exists(#p) OR (#p < :p AND NOT #s IN (:done, :failed))"

    def update(progress: int) -> bool:
        try:
            dynamodb.update_item(
                TableName=name, Key=KEY, UpdateExpression="SET #p = :p",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#p": "progress", "#s": "status"},
                ExpressionAttributeValues={
                    ":p": {"N": str(progress)}, ":done": {"S": "SUCCEEDED"}, ":failed": {"S": "FAILED"},
                },
            )  # fmt: skip
        except ClientError as error:
            assert error.response["Error"]["Code"] == "ConditionalCheckFailedException"
            return False
        return True

    # THEN each call's values decide: lower and equal progress refused, higher applied
    assert [update(1), update(2), update(3), update(3), update(5)] == [False, False, True, False, True]


# -- the table's sort order (every Query and Scan sorts the table by its keys) -----------------------


def _moto_table(key_types: tuple[str, ...], keys: list[tuple[Any, ...]], extra: list[dict[str, Any]]) -> Any:
    """A moto Table (no server) with items of these key values and extra attributes."""
    from moto.dynamodb.models.table import Table

    names = ["h", "r"][: len(key_types)]
    schema = [{"AttributeName": n, "KeyType": k} for n, k in zip(names, ["HASH", "RANGE"], strict=False)]
    attrs = [{"AttributeName": n, "AttributeType": t} for n, t in zip(names, key_types, strict=True)]
    table = Table("t", account_id="123456789012", region="us-east-1", schema=schema, attr=attrs)
    for values, more in zip(keys, extra, strict=True):
        item = {n: {t: v} for n, t, v in zip(names, key_types, values, strict=True)}
        table.put_item({**item, **more})
    return table


NUMBERS = ["10", "9", "-1.5", "1e3", "0", "0.0", "100", "-20", "3.25", "7"]


@pytest.mark.parametrize(
    ("key_types", "keys"),
    [
        (("S", "S"), [(f"run{i % 3}", f"job{(i * 7) % 10}") for i in range(30)]),
        (("S", "N"), [(f"run{i % 2}", NUMBERS[i % 10]) for i in range(20)]),
        (("N",), [(n,) for n in NUMBERS]),
        (("S",), [(s,) for s in ["b", "a", "B", "ab", "", "é", "z"] if s]),
        (("B", "S"), [(b"x" * (i % 3 + 1), f"k{i}") for i in range(6)]),  # binary: moto's own sort
    ],
)
def test_the_table_is_sorted_as_moto_sorts_it(
    key_types: tuple[str, ...], keys: list[tuple[Any, ...]]
) -> None:
    # GIVEN tables of string, number, hash-only and binary keys (numbers that sort differently as text)
    table = _moto_table(key_types, keys, [{} for _ in keys])
    # WHEN every item is listed by moto's sort and by the patch's
    ours = moto_dynamodb._all_items(table)
    theirs = moto_dynamodb._moto_all_items(table)
    # THEN the order is the same, item for item
    assert [id(x) for x in ours] == [id(x) for x in theirs]


def test_index_matches_are_sorted_as_moto_sorts_them_ties_and_all() -> None:
    # GIVEN items whose index keys tie (same run, same updated_at) and differ only in the table's keys
    keys = [("run", f"job{(i * 3) % 12}") for i in range(12)]
    extra = [{"u": {"S": f"t{i % 3}"}, "n": {"N": NUMBERS[i % 10]}} for i in range(12)]
    table = _moto_table(("S", "S"), keys, extra)
    items = moto_dynamodb._moto_all_items(table)
    for index_keys in (["h", "u"], ["n", "u"], ["u", "n"]):
        # WHEN the matches are sorted for an index on those attributes, by moto and by the patch
        theirs = moto_dynamodb._moto_sorted_items(
            table, [index_keys[0], "h"], [index_keys[1], "r"], list(items)
        )
        ours = moto_dynamodb._sorted_items(table, [index_keys[0], "h"], [index_keys[1], "r"], list(items))
        # THEN the same order
        assert [id(x) for x in ours] == [id(x) for x in theirs]


def test_an_item_without_an_index_key_fails_the_sort_as_in_moto() -> None:
    # GIVEN an item that lacks the attribute sorted by (moto's sort raises KeyError)
    table = _moto_table(("S", "S"), [("run", "a"), ("run", "b")], [{"u": {"S": "x"}}, {}])
    items = moto_dynamodb._moto_all_items(table)
    # THEN the patch does what moto does
    with pytest.raises(KeyError):
        moto_dynamodb._moto_sorted_items(table, ["h", "h"], ["u", "r"], list(items))
    with pytest.raises(KeyError):
        moto_dynamodb._sorted_items(table, ["h", "h"], ["u", "r"], list(items))


def test_paged_queries_return_items_in_key_order(table: tuple[Any, str]) -> None:
    # GIVEN a table's items, queried by key range with a limit (pages)
    dynamodb, name = table
    for i in range(25):
        dynamodb.put_item(TableName=name, Item={"pk": {"S": "run"}, "sk": {"S": f"job{(i * 7) % 25:02d}"}})
    pages, start = [], None
    while True:
        extra: dict[str, Any] = {"ExclusiveStartKey": start} if start else {}
        page = dynamodb.query(
            TableName=name, KeyConditionExpression="pk = :p AND sk > :s", Limit=7,
            ExpressionAttributeValues={":p": {"S": "run"}, ":s": {"S": "job03"}}, **extra,
        )  # fmt: skip
        pages.append([item["sk"]["S"] for item in page["Items"]])
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    # THEN in key order, page after page
    assert [sk for page in pages for sk in page] == [f"job{i:02d}" for i in range(4, 25)]
    assert [len(page) for page in pages] == [7, 7, 7]
