"""Status rounds: one Query of what changed, with an overlap; a consistent read before "lost"."""

import time

import boto3

from sls_contract.job_store import JobStore
from snakemake_executor_plugin_aws_basic_batch_sls.status_reader import (
    QUIET_PER_ROUND,
    WATERMARK_OVERLAP_SECONDS,
    StatusReader,
    _shift,
)
from tests.support.aws_calls import record_calls
from tests.support.specs import minimal_spec, model


def _store(jobs_table):
    return JobStore(boto3.client("dynamodb"), jobs_table)


def test_each_round_is_one_query_whatever_the_number_of_jobs(jobs_table):
    store = _store(jobs_table)
    specs = [model(minimal_spec(run_id="r", job_id=f"{i:032x}")) for i in range(250)]
    for spec in specs:
        store.claim(spec, "token", 300)
    queries = record_calls(store.client, "Query")
    reader = StatusReader(store, "r")
    reader.refresh()
    assert len(reader.latest) == 250
    assert len(queries) == 1
    assert queries[0]["ExpressionAttributeValues"][":since"] == {"S": "0"}


def test_later_rounds_ask_only_for_changes_since_the_watermark_minus_overlap(jobs_table):
    store = _store(jobs_table)
    spec = model(minimal_spec(run_id="r"))
    store.claim(spec, "token", 300)
    reader = StatusReader(store, "r")
    reader.refresh()
    queries = record_calls(store.client, "Query")
    reader.refresh()
    watermark = reader.latest[spec.job_id].updated_at
    assert queries[0]["ExpressionAttributeValues"][":since"] == {
        "S": _shift(watermark, WATERMARK_OVERLAP_SECONDS)
    }
    assert reader.calls == 2


def test_an_older_record_never_replaces_a_newer_one(jobs_table):
    store = _store(jobs_table)
    spec = model(minimal_spec(run_id="r"))
    store.claim(spec, "token", 300)
    store.mark_failed("r", spec.job_id, "boom")
    reader = StatusReader(store, "r")
    reader.refresh()
    assert reader.latest[spec.job_id].status == "FAILED"


def test_read_consistently_reads_in_chunks_of_100(jobs_table):
    store = _store(jobs_table)
    present = model(minimal_spec(run_id="r"))
    store.claim(present, "token", 300)
    gets = record_calls(store.client, "BatchGetItem")
    reader = StatusReader(store, "r")
    missing = [f"{i:032x}" for i in range(150)]
    found = reader.read_consistently([present.job_id, *missing])
    assert set(found) == {present.job_id}
    assert [len(g["RequestItems"][jobs_table]["Keys"]) for g in gets] == [100, 51]
    assert all(g["RequestItems"][jobs_table]["ConsistentRead"] for g in gets)
    assert reader.calls == 2


def test_shift_goes_back_in_time_in_the_same_format():
    assert _shift("2026-11-22T02:00:10.000001Z", 30) == "2026-11-22T01:59:40.000001Z"


def test_a_backlog_of_quiet_jobs_is_asked_about_a_bounded_number_a_round_quietest_first(jobs_table):
    store = _store(jobs_table)
    specs = [model(minimal_spec(run_id="r", job_id=f"{i:032x}")) for i in range(QUIET_PER_ROUND + 50)]
    for spec in specs:
        store.claim(spec, "token", 300)
        store.mark_submitted(spec, f"batch-{spec.job_id}", None)
    reader = StatusReader(store, "r")
    reader.refresh()
    ids = [s.job_id for s in specs]
    # every job last moved 1,000 s ago or more; the last 50 the longest ago
    now = time.monotonic()
    reader.changed_at.update(
        {job_id: now - 1000 - (i >= QUIET_PER_ROUND) * 500 for i, job_id in enumerate(ids)}
    )

    first = reader.quiet(ids, after_seconds=300)
    second = reader.quiet(ids, after_seconds=300)

    assert len(first) == QUIET_PER_ROUND and set(ids[QUIET_PER_ROUND:]) <= set(first)
    assert sorted(first + second) == sorted(ids)  # the rest next round, none twice
    assert reader.quiet(ids, after_seconds=300) == []  # each asked once a period
