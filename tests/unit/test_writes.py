"""The one DynamoDB write path: update expressions, status conditions from the enums, conditional writes."""

from __future__ import annotations

from typing import Any

from sls_contract.job_record import item_key
from sls_contract.run_record import RUN_TERMINAL
from sls_contract.status import TERMINAL
from sls_contract.writes import put_new_item, status_not_in, update_expression, update_item
from tests.support.aws_calls import record_calls


def test_update_expression_sets_keeps_and_removes_skipping_none() -> None:
    expression, names, values = update_expression(
        {"status": "RUNNING", "cause": None}, {"created_at": "t0"}, ("live_shard",)
    )

    assert expression == (
        "SET #status = :status, #created_at = if_not_exists(#created_at, :created_at) REMOVE #live_shard"
    )
    assert names == {"#status": "status", "#created_at": "created_at", "#live_shard": "live_shard"}
    assert values == {":status": {"S": "RUNNING"}, ":created_at": {"S": "t0"}}


def test_update_expression_of_only_removals() -> None:
    assert update_expression({}, remove=("claimed_at", "claim_token")) == (
        "REMOVE #claimed_at, #claim_token",
        {"#claimed_at": "claimed_at", "#claim_token": "claim_token"},
        {},
    )


def test_status_conditions_come_from_the_enums() -> None:
    assert status_not_in(TERMINAL) == (
        "NOT (#status IN (:failed, :succeeded))",
        {":failed": "FAILED", ":succeeded": "SUCCEEDED"},
    )
    assert status_not_in(RUN_TERMINAL) == (
        "NOT (#status IN (:aborted, :failed, :succeeded))",
        {":aborted": "ABORTED", ":failed": "FAILED", ":succeeded": "SUCCEEDED"},
    )


def test_a_failed_condition_is_false_and_a_met_one_true(dynamodb: Any, jobs_table: str) -> None:
    key = item_key("run-1", "job-00000001")
    sent = record_calls(dynamodb, "UpdateItem")

    # GIVEN a new item, WHEN a write requires it to exist, THEN nothing is written
    assert not update_item(
        dynamodb, jobs_table, key, {"status": "RUNNING"}, condition="attribute_exists(#status)"
    )
    # WHEN it may be written, THEN `before` receives the item as it was (nothing)
    before: dict[str, Any] = {}
    assert update_item(dynamodb, jobs_table, key, {"status": "RUNNING"}, before=before)
    assert before == {}
    assert update_item(dynamodb, jobs_table, key, {"status": "SUCCEEDED"}, before=before)
    assert before["status"] == "RUNNING"

    assert [call["UpdateExpression"] for call in sent] == ["SET #status = :status"] * 3
    assert "ReturnValues" not in sent[0] and sent[1]["ReturnValues"] == "ALL_OLD"


def test_put_new_item_only_once(dynamodb: Any, jobs_table: str) -> None:
    item = {"run_id": "run-1", "job_id": "job-00000001", "status": "REQUESTED"}

    assert put_new_item(dynamodb, jobs_table, item, absent="status")
    assert not put_new_item(dynamodb, jobs_table, {**item, "status": "RUNNING"}, absent="status")
