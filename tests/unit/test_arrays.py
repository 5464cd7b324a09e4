"""Array jobs in the contract: child records and commands, the child's bootstrap, events, derivation,
cancel and reconcile of children (sls_contract/arrays.py, array_child.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from sls_contract import array_child
from sls_contract.arrays import child_items, resolve_children, snakemake_jobs, with_batch_ids
from sls_contract.cancel import cancel_run
from sls_contract.events import parse_state_change
from sls_contract.job_record import JOB_ID_ENV, RUN_ID_ENV, TABLE_ENV, JobRecord
from sls_contract.job_store import JobStore
from sls_contract.reconcile import reconcile
from sls_contract.run_store import job_counts
from sls_contract.spec import JobSpec
from sls_contract.status import JobStatus
from sls_contract.submit_request import build_submit_job_request
from snakemake_executor_plugin_aws_basic_batch_sls.array_plan import ArrayJob, make_array, plan_arrays
from snakemake_executor_plugin_aws_basic_batch_sls.status_reader import StatusReader
from tests.support.aws_calls import record_calls
from tests.support.events import state_change
from tests.support.specs import minimal_spec, model

RUN = "run-1"


def member(n: int, **overrides: Any) -> JobSpec:
    return model(
        minimal_spec(
            job_id=f"{n:032x}",
            snakemake_jobid=n,
            job_name=f"snakejob-work-{n}",
            command=["/bin/bash", "-c", f"snakemake --target-jobs 'work:i={n}'"],
            **overrides,
        )
    )


@pytest.fixture
def store(dynamodb: Any, jobs_table: str) -> JobStore:
    return JobStore(dynamodb, jobs_table)


@pytest.fixture
def array(store: JobStore) -> ArrayJob:
    """An array of three jobs whose children are in the table, as the plugin leaves them."""
    made = make_array([member(n) for n in range(3)], "python", "us-east-1")
    store.put_items(child_items(made.children, made.spec.job_id, store.ttl_seconds))
    return made


def submitted(store: JobStore, array: ArrayJob, parent: str = "parent-1") -> None:
    store.claim(array.spec, "token", 120)
    store.mark_submitted(array.spec, parent, None)


def test_jobs_that_differ_only_in_their_command_form_an_array() -> None:
    same = [member(n) for n in range(12)]
    bigger = [member(100 + n, memory_mib=8192) for n in range(3)]

    singles, arrays = plan_arrays(same + bigger, min_size=10, python="python", region=None)

    assert [len(a.children) for a in arrays] == [12] and singles == bigger
    spec = arrays[0].spec
    assert (spec.array_size, spec.version, spec.rule, spec.memory_mib) == (12, 2, "bwa_map", 1024)
    assert [c.job_id for c in arrays[0].children] == [f"{spec.job_id}-{i}" for i in range(12)]
    assert [c.command for c in arrays[0].children] == [m.command for m in same]
    assert build_submit_job_request(spec)["arrayProperties"] == {"size": 12}
    assert plan_arrays(same, min_size=0, python="python", region=None) == (same, [])


def test_more_than_10000_alike_jobs_are_arrays_of_10000_and_the_rest() -> None:
    specs = [member(n) for n in range(10_012)]

    singles, arrays = plan_arrays(specs, min_size=10, python="python", region=None)

    assert [a.spec.array_size for a in arrays] == [10_000, 12] and singles == []
    singles, arrays = plan_arrays(specs[:10_003], min_size=10, python="python", region=None)
    assert [a.spec.array_size for a in arrays] == [10_000] and singles == specs[10_000:10_003]


def test_children_are_records_of_their_own_and_commands_are_not(store: JobStore, array: ArrayJob) -> None:
    records = {r.job_id: r for r in store.run_jobs(RUN)}

    assert sorted(records) == sorted(c.job_id for c in array.children)
    child = records[array.children[2].job_id]
    assert (child.status, child.array_job_id, child.array_index, child.snakemake_jobid) == (
        JobStatus.SUBMITTING,
        array.spec.job_id,
        2,
        2,
    )


def run_bootstrap(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], argv: list[str]) -> Any:
    """array_child.main as a child runs it; os.execvp (which would replace pytest) records instead."""
    ran: list[list[str]] = []
    monkeypatch.setattr(os, "execvp", lambda file, args: ran.append(list(args)))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return array_child.main(argv), ran


def test_a_child_runs_its_own_command(
    monkeypatch: pytest.MonkeyPatch, store: JobStore, array: ArrayJob, jobs_table: str
) -> None:
    python, dash_c, source, names = array.spec.command
    assert (python, dash_c, source) == ("python", "-c", Path(array_child.__file__).read_text())
    env = {
        RUN_ID_ENV: RUN,
        JOB_ID_ENV: array.spec.job_id,
        TABLE_ENV: jobs_table,
        "AWS_BATCH_JOB_ARRAY_INDEX": "1",
    }

    code, ran = run_bootstrap(monkeypatch, env, ["-c", names])

    assert (code, ran) == (0, [array.children[1].command])


def test_a_child_that_cannot_read_its_command_says_what_to_grant(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], array: ArrayJob
) -> None:
    env = {
        RUN_ID_ENV: RUN,
        JOB_ID_ENV: array.spec.job_id,
        TABLE_ENV: "nope",
        "AWS_BATCH_JOB_ARRAY_INDEX": "0",
    }

    code, ran = run_bootstrap(monkeypatch, env, ["-c", array.spec.command[3]])

    assert (code, ran) == (3, [])
    err = capsys.readouterr().err
    assert "jobs table nope" in err and "dynamodb:GetItem" in err and "array-min-size 0" in err


def test_the_bootstrap_outside_an_array_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], array: ArrayJob
) -> None:
    monkeypatch.delenv("AWS_BATCH_JOB_ARRAY_INDEX", raising=False)
    env = {RUN_ID_ENV: RUN, JOB_ID_ENV: array.spec.job_id, TABLE_ENV: "t"}

    code, _ = run_bootstrap(monkeypatch, env, ["-c", array.spec.command[3]])

    assert code == 2 and "only runs as a child of an array job" in capsys.readouterr().err


def test_a_childs_events_land_on_the_childs_record_and_the_parents_on_the_arrays(
    store: JobStore, array: ArrayJob
) -> None:
    array_id = array.spec.job_id
    submitted(store, array)
    child = parse_state_change(
        state_change("batch_job_running", RUN, array_id, jobId="parent-1:1", arrayProperties={"index": 1})
    )
    parent = parse_state_change(
        state_change("batch_job_succeeded", RUN, array_id, jobId="parent-1", arrayProperties={"size": 3})
    )

    assert child.detail.record_keys() == (RUN, f"{array_id}-1")
    assert parent.detail.record_keys() == (RUN, array_id)
    assert store.apply_state_change(child.detail) and store.apply_state_change(parent.detail)
    records = store.get_records(RUN, [array_id, f"{array_id}-1", f"{array_id}-0"])
    assert (records[f"{array_id}-1"].status, records[f"{array_id}-1"].batch_job_id) == (
        "RUNNING",
        "parent-1:1",
    )
    assert records[f"{array_id}-0"].status == JobStatus.SUBMITTING
    assert (records[array_id].status, records[array_id].array_size) == ("SUCCEEDED", 3)


def test_a_child_without_events_yet_has_its_arrays_batch_id(store: JobStore, array: ArrayJob) -> None:
    submitted(store, array)
    records = {r.job_id: r for r in store.run_jobs(RUN)}

    resolve_children(records)

    assert [records[c.job_id].batch_job_id for c in array.children] == [f"parent-1:{i}" for i in range(3)]
    read = with_batch_ids(store, store.get_records(RUN, [array.children[2].job_id]).values())
    assert [r.batch_job_id for r in read] == ["parent-1:2"]


def test_an_array_that_never_reached_batch_fails_its_children(store: JobStore, array: ArrayJob) -> None:
    store.claim(array.spec, "token", 120)
    store.mark_failed(RUN, array.spec.job_id, "rule bwa_map: no such queue")
    records = {r.job_id: r for r in store.run_jobs(RUN)}

    resolve_children(records)

    child: JobRecord = records[array.children[0].job_id]
    assert child.status == JobStatus.FAILED
    assert child.status_reason == (
        f"its array job {array.spec.job_id} was not submitted: rule bwa_map: no such queue"
    )


def test_cancel_terminates_the_array_once_not_each_child(store: JobStore, array: ArrayJob) -> None:
    submitted(store, array)
    batch = boto3.client("batch", region_name="us-east-1")
    with Stubber(batch) as stub:
        stub.add_response(
            "terminate_jobs",
            {"successful": ["parent-1"], "errors": []},
            {"jobs": ["parent-1"], "reason": "stop"},
        )
        summary = cancel_run(store, batch, RUN, "stop")
        stub.assert_no_pending_responses()

    assert (summary.terminated, summary.never_submitted) == (["parent-1"], [])


def test_reconcile_asks_batch_about_a_silent_child_by_its_child_id(store: JobStore, array: ArrayJob) -> None:
    submitted(store, array)
    child_id = array.children[1].job_id
    done = state_change(
        "batch_job_succeeded", RUN, array.spec.job_id, jobId="parent-1:1", arrayProperties={"index": 1}
    )["detail"]
    batch = boto3.client("batch", region_name="us-east-1")
    with Stubber(batch) as stub:
        stub.add_response("describe_jobs", {"jobs": [done]}, {"jobs": ["parent-1:1"]})
        summary = reconcile(store, batch, store.get_records(RUN, [child_id]).values())

    assert (summary.checked, summary.updated) == (1, 1)
    assert store.get_records(RUN, [child_id])[child_id].status == JobStatus.SUCCEEDED


def test_a_large_arrays_children_are_written_several_calls_at_once(store: JobStore) -> None:
    made = make_array([member(n) for n in range(60)], "python", None)
    writes = record_calls(store.client, "BatchWriteItem")

    store.put_items(child_items(made.children, made.spec.job_id, store.ttl_seconds), concurrency=8)

    assert sorted(len(call["RequestItems"][store.table_name]) for call in writes) == [20] + [25] * 4
    assert sorted(r.array_index for r in store.run_jobs(RUN)) == list(range(60))


def test_a_runs_jobs_are_the_arrays_children_not_the_array(store: JobStore, array: ArrayJob) -> None:
    store.fail_if_absent(RUN, array.spec.job_id, "no record of the array job spec")  # declared lost

    jobs = snakemake_jobs(store.run_jobs(RUN))

    assert sorted(r.job_id for r in jobs) == sorted(c.job_id for c in array.children)
    assert job_counts(store.run_jobs(RUN)) == {"FAILED": 3}


def test_the_status_reader_derives_children_when_they_or_their_array_change(
    store: JobStore, array: ArrayJob
) -> None:
    # GIVEN a status reader that has seen the children before their array reached Batch
    reader = StatusReader(store, RUN)
    reader.refresh()
    assert {reader.latest[c.job_id].batch_job_id for c in array.children} == {None}
    # WHEN only the array's record changes (submitted) THEN every child shows its Batch id
    submitted(store, array)
    reader.refresh()
    assert [reader.latest[c.job_id].batch_job_id for c in array.children] == [
        f"parent-1:{i}" for i in range(3)
    ]
    # AND a child read on its own (consistently) is derived too
    reader.latest.pop(array.children[1].job_id)
    reader.read_consistently([array.children[1].job_id])
    assert reader.latest[array.children[1].job_id].batch_job_id == "parent-1:1"


def _event(status: str, array: ArrayJob, index: int | None = None) -> Any:
    """A state change of the array (index None) or of one child, for the store."""
    if index is None:
        return parse_state_change(
            state_change(
                f"batch_job_{status}", RUN, array.spec.job_id, jobId="parent-1", arrayProperties={"size": 3}
            )
        ).detail
    return parse_state_change(
        state_change(
            f"batch_job_{status}",
            RUN,
            array.spec.job_id,
            jobId=f"parent-1:{index}",
            arrayProperties={"index": index},
        )
    ).detail


@pytest.mark.parametrize("array_status", ["succeeded", "failed"])
def test_a_child_whose_final_event_is_lost_succeeds_with_its_succeeded_array_only(
    store: JobStore, array: ArrayJob, array_status: str
) -> None:
    # GIVEN children RUNNING, the final events of children 0 and 2 and of the array arrived, child 1's did not
    submitted(store, array)
    for index in range(3):
        store.apply_state_change(_event("running", array, index))
    for index in (0, 2):
        store.apply_state_change(_event(array_status, array, index))
    store.apply_state_change(_event(array_status, array))

    jobs = {r.job_id: r for r in snakemake_jobs(store.run_jobs(RUN))}
    lost = jobs[array.children[1].job_id]
    if array_status == "succeeded":  # THEN Batch's word that every child succeeded settles child 1
        assert (lost.status, lost.batch_job_id) == (JobStatus.SUCCEEDED, "parent-1:1")
        assert lost.status_reason == "its array job parent-1 SUCCEEDED, so every child did"
    else:  # a FAILED array says nothing about one child: it waits for its event or the reconcile path
        assert lost.status == JobStatus.RUNNING
