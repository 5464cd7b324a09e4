"""JobStore against the template's table in moto: incremental reads, batched reads, conditional writes."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ClientError

import sls_contract.job_store as store_module
from sls_contract.batch_calls import UNPROCESSED_BACKOFF_CAP, UNPROCESSED_ROUNDS
from sls_contract.events import parse_state_change
from sls_contract.job_record import RUN_CONTROL_JOB_ID, now_iso
from sls_contract.job_store import JobStore
from sls_contract.status import TERMINAL, JobStatus
from tests.support.aws_calls import ok_response, on_call, record_calls
from tests.support.events import state_change
from tests.support.specs import minimal_spec, model


@pytest.fixture
def store(dynamodb: Any, jobs_table: str) -> JobStore:
    return JobStore(dynamodb, jobs_table)


def put_records(dynamodb: Any, table: str, run_id: str, job_ids: list[str]) -> None:
    for start in range(0, len(job_ids), 25):
        dynamodb.batch_write_item(
            RequestItems={
                table: [
                    {
                        "PutRequest": {
                            "Item": {
                                "run_id": {"S": run_id},
                                "job_id": {"S": job_id},
                                "status": {"S": "RUNNING"},
                                "progress": {"N": "5"},
                                "updated_at": {"S": now_iso()},
                            }
                        }
                    }
                    for job_id in job_ids[start : start + 25]
                ]
            }
        )


def detail(name: str, run_id: str = "run-1", job_id: str = "job-00000001") -> Any:
    return parse_state_change(state_change(name, run_id, job_id)).detail


def freeze_store_clock(monkeypatch: pytest.MonkeyPatch, at: float) -> None:
    """The store's clock only (botocore keeps the real one)."""
    monkeypatch.setattr(store_module, "time", SimpleNamespace(time=lambda: at))


# --- changed_since ---


def test_changed_since_returns_only_newer_records(store: JobStore, dynamodb: Any, jobs_table: str) -> None:
    # GIVEN five records, then a mark, then two of them change
    put_records(dynamodb, jobs_table, "run-1", [f"job-{i:08d}" for i in range(5)])
    put_records(dynamodb, jobs_table, "run-2", ["job-00000000"])
    since = now_iso()
    store.mark_failed("run-1", "job-00000001", "boom")
    store.apply_state_change(detail("batch_job_succeeded", job_id="job-00000003"))

    # WHEN the plugin asks what changed since the mark
    changed = store.changed_since("run-1", since)

    # THEN exactly those two come back, with their new states
    assert sorted((r.job_id, r.status) for r in changed) == [
        ("job-00000001", JobStatus.FAILED),
        ("job-00000003", JobStatus.SUCCEEDED),
    ]
    assert all(r.updated_at > since for r in changed)
    assert store.changed_since("run-1", max(r.updated_at for r in changed)) == []


def test_changed_since_follows_every_page(store: JobStore, dynamodb: Any, jobs_table: str) -> None:
    # GIVEN 23 changed records and a DynamoDB that answers 5 items per page
    since = now_iso()
    put_records(dynamodb, jobs_table, "run-1", [f"job-{i:08d}" for i in range(23)])
    queries = record_calls(dynamodb, "Query")

    def five_per_page(params: dict[str, Any], **_: Any) -> None:
        params["Limit"] = 5

    dynamodb.meta.events.register("provide-client-params.dynamodb.Query", five_per_page)

    changed = store.changed_since("run-1", since)

    assert sorted(r.job_id for r in changed) == [f"job-{i:08d}" for i in range(23)]
    assert len(queries) == 5
    assert all(q["IndexName"] == "by_update" for q in queries)
    assert "ExclusiveStartKey" not in queries[0]
    assert all("ExclusiveStartKey" in q for q in queries[1:])


def test_the_run_control_item_never_shows_as_a_change(store: JobStore) -> None:
    since = now_iso()

    store.request_cancel("run-1", "user pressed ctrl-c")

    assert store.changed_since("run-1", since) == []


# --- get_records ---


def test_get_records_reads_in_chunks_of_100(store: JobStore, dynamodb: Any, jobs_table: str) -> None:
    job_ids = [f"job-{i:08d}" for i in range(250)]
    put_records(dynamodb, jobs_table, "run-1", job_ids)
    batch_gets = record_calls(dynamodb, "BatchGetItem")

    records = store.get_records("run-1", [*job_ids, "job-missing0"])

    assert sorted(records) == job_ids
    assert [len(call["RequestItems"][jobs_table]["Keys"]) for call in batch_gets] == [100, 100, 51]
    assert all(call["RequestItems"][jobs_table]["ConsistentRead"] is True for call in batch_gets)
    assert records["job-00000249"].status == JobStatus.RUNNING


def test_get_records_of_nothing_makes_no_call(store: JobStore, dynamodb: Any) -> None:
    batch_gets = record_calls(dynamodb, "BatchGetItem")

    assert store.get_records("run-1", []) == {}
    assert batch_gets == []


# --- mark_failed ---


@pytest.mark.parametrize("terminal_event", ["batch_job_succeeded", "batch_job_failed"])
def test_mark_failed_never_overwrites_a_terminal_record(store: JobStore, terminal_event: str) -> None:
    store.apply_state_change(detail(terminal_event))
    before = store.get_records("run-1", ["job-00000001"])["job-00000001"]

    assert store.mark_failed("run-1", "job-00000001", "too late") is False

    assert store.get_records("run-1", ["job-00000001"])["job-00000001"] == before


def test_mark_failed_creates_or_fails_a_live_record(store: JobStore) -> None:
    store.apply_state_change(detail("batch_job_running"))

    assert store.mark_failed("run-1", "job-00000001", "x" * 2000, {"exit_code": 3}) is True
    assert store.mark_failed("run-1", "job-00000002", "never submitted") is True

    records = store.get_records("run-1", ["job-00000001", "job-00000002"])
    assert (records["job-00000001"].status, records["job-00000001"].exit_code) == (JobStatus.FAILED, 3)
    assert records["job-00000001"].status_reason == "x" * 1024
    assert records["job-00000001"].log_stream == "snakemake-job/default/8f2d1c0e7b6a4d5e9f1a2b3c4d5e6f70"
    assert (records["job-00000002"].status, records["job-00000002"].status_reason) == (
        JobStatus.FAILED,
        "never submitted",
    )


def test_writes_reject_a_field_the_record_does_not_define(store: JobStore) -> None:
    with pytest.raises(KeyError, match="not JobRecord fields: \\['colour'\\]"):
        store.mark_failed("run-1", "job-00000001", "x", {"colour": "red"})


# --- the submit lease ---


def test_claim_lease_blocks_a_second_claim_until_it_expires(
    store: JobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = model(minimal_spec())
    start = time.time()
    freeze_store_clock(monkeypatch, start)
    assert store.claim(spec, "first", lease_seconds=300) is True

    # WHEN another delivery tries within the lease (even at its last second)
    freeze_store_clock(monkeypatch, start + 300)
    assert store.claim(spec, "second", lease_seconds=300) is False

    # THEN only after the lease does it get in
    freeze_store_clock(monkeypatch, start + 301)
    assert store.claim(spec, "second", lease_seconds=300) is True
    record = store.get_records("run-1", ["job-00000001"])["job-00000001"]
    assert (record.claim_token, record.claimed_at, record.status) == (
        "second",
        int(start + 301),
        JobStatus.SUBMITTING,
    )


def test_no_claim_after_submission_even_once_the_lease_expired(
    store: JobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = model(minimal_spec())
    assert store.claim(spec, "first", lease_seconds=300)
    store.mark_submitted(spec, "batch-job-1", "arn:aws:batch:us-east-1:123456789012:job/batch-job-1")

    freeze_store_clock(monkeypatch, time.time() + 3600)

    assert store.claim(spec, "second", lease_seconds=300) is False


def test_release_claim_needs_the_holders_token(store: JobStore) -> None:
    spec = model(minimal_spec())
    assert store.claim(spec, "holder", lease_seconds=300)

    store.release_claim(spec.run_id, spec.job_id, "someone-else")
    assert store.claim(spec, "second", lease_seconds=300) is False

    store.release_claim(spec.run_id, spec.job_id, "holder")
    assert store.claim(spec, "second", lease_seconds=300) is True


def test_no_claim_on_a_terminal_record(store: JobStore) -> None:
    store.mark_failed("run-1", "job-00000001", "rejected earlier")

    assert store.claim(model(minimal_spec()), "t", lease_seconds=0) is False


# --- mark_submitted vs. events ---


def test_mark_submitted_keeps_a_status_an_event_already_wrote(store: JobStore) -> None:
    spec = model(minimal_spec())
    store.claim(spec, "t", 300)
    store.apply_state_change(detail("batch_job_running"))

    store.mark_submitted(spec, "4c7599ae-0a82-49aa-ba5a-4727fcce14a8", "arn:job")

    record = store.get_records("run-1", ["job-00000001"])["job-00000001"]
    assert (record.status, record.progress, record.job_arn) == (JobStatus.RUNNING, 5, "arn:job")
    assert record.submitted_at is not None


def test_ttl_attribute_is_set_from_the_retention(dynamodb: Any, jobs_table: str) -> None:
    store = JobStore(dynamodb, jobs_table, ttl_days=2)
    before = int(time.time())

    store.mark_failed("run-1", "job-00000001", "x")

    expires = store.get_records("run-1", ["job-00000001"])["job-00000001"].expires_at
    assert before + 2 * 86400 <= expires <= int(time.time()) + 2 * 86400


# --- the run's control item ---


def test_cancelled_runs_and_run_jobs(store: JobStore) -> None:
    store.mark_failed("run-1", "job-00000001", "x")
    store.apply_state_change(detail("batch_job_running", job_id="job-00000002"))
    store.request_cancel("run-1", "user pressed ctrl-c")

    assert store.cancelled_runs(["run-1", "run-2", "run-1"]) == {"run-1": "user pressed ctrl-c"}
    jobs = store.run_jobs("run-1")
    assert sorted(r.job_id for r in jobs) == ["job-00000001", "job-00000002"]
    assert RUN_CONTROL_JOB_ID not in {r.job_id for r in jobs}
    active = [r.batch_job_id for r in jobs if r.batch_job_id and r.status not in TERMINAL]
    assert active == ["4c7599ae-0a82-49aa-ba5a-4727fcce14a8"]


def _leave_unprocessed(dynamodb: Any, rounds: int) -> list[int]:
    """Answer the first `rounds` BatchGetItem calls with every key unprocessed, as throttled DynamoDB does."""
    calls = [0]

    def answer(body: dict[str, Any]) -> Any:
        calls[0] += 1
        if calls[0] > rounds:
            return None  # the real (moto) answer
        return ok_response({"Responses": {}, "UnprocessedKeys": body["RequestItems"]})

    on_call(dynamodb, "BatchGetItem", answer)
    return calls


def test_unprocessed_keys_are_asked_again_with_backoff(dynamodb: Any, jobs_table: str) -> None:
    pauses: list[float] = []
    store = JobStore(dynamodb, jobs_table, sleep=pauses.append)
    spec = model(minimal_spec())
    store.claim(spec, "token", 300)
    calls = _leave_unprocessed(dynamodb, rounds=3)

    assert list(store.get_records(spec.run_id, [spec.job_id])) == [spec.job_id]
    assert calls[0] == 4 and len(pauses) == 3
    assert all(0 <= pause <= UNPROCESSED_BACKOFF_CAP for pause in pauses)


def test_keys_left_unprocessed_past_the_bound_are_a_throttling_error(dynamodb: Any, jobs_table: str) -> None:
    pauses: list[float] = []
    store = JobStore(dynamodb, jobs_table, sleep=pauses.append)
    calls = _leave_unprocessed(dynamodb, rounds=1000)

    with pytest.raises(ClientError) as info:
        store.get_records("run-1", ["job-00000001"])

    assert info.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    assert calls[0] == UNPROCESSED_ROUNDS + 1 and len(pauses) == UNPROCESSED_ROUNDS
