"""Jobs whose events were lost are brought up to date from DescribeJobs, never awaited forever."""

import boto3

from sls_contract.events import parse_state_change
from sls_contract.job_store import JobStore
from sls_contract.reconcile import reconcile, stale_records
from sls_contract.submit_request import build_submit_job_request
from tests.support.aws_calls import record_calls
from tests.support.events import state_change
from tests.support.specs import minimal_spec, model


def _submitted(store, batch_env, job_id):
    spec = model(
        minimal_spec(
            run_id="r",
            job_id=job_id,
            job_queue=batch_env.job_queue_arn,
            job_definition=batch_env.job_definition_arn,
        )
    )
    store.claim(spec, "t", 120)
    job = boto3.client("batch").submit_job(**build_submit_job_request(spec))
    store.mark_submitted(spec, job["jobId"], job["jobArn"])
    return spec


def test_quiet_jobs_get_batchs_answer_and_vanished_ones_fail(jobs_table, batch_env):
    store = JobStore(boto3.client("dynamodb"), jobs_table)
    specs = [_submitted(store, batch_env, f"{i:032x}") for i in range(3)]
    # one job Batch no longer knows (jobs expire from DescribeJobs after a while)
    gone = model(minimal_spec(run_id="r", job_id="e" * 32))
    store.claim(gone, "t", 120)
    store.mark_submitted(gone, "00000000-0000-0000-0000-000000000000", None)
    batch = boto3.client("batch")
    describes = record_calls(batch, "DescribeJobs")

    records = stale_records(store, "9999")  # everything non-terminal is "stale" with this cutoff
    summary = reconcile(store, batch, records)

    assert len(describes) == 1 and len(describes[0]["jobs"]) == 4
    assert (summary.checked, summary.updated, summary.lost) == (
        4,
        3,
        ["00000000-0000-0000-0000-000000000000"],
    )
    final = store.get_records("r", [s.job_id for s in specs] + [gone.job_id])
    assert [final[s.job_id].status for s in specs] == ["SUCCEEDED"] * 3
    assert final[gone.job_id].status == "FAILED" and "has no job" in final[gone.job_id].status_reason
    assert stale_records(store, "9999") == []  # nothing left to reconcile


def test_the_sweep_finds_every_quiet_live_job_whatever_the_size_of_the_table(jobs_table, batch_env):
    # GIVEN 1,000 finished jobs and 40 live ones, written the way the control plane writes them
    store = JobStore(boto3.client("dynamodb"), jobs_table)
    live = set()
    for i in range(1040):
        spec = model(minimal_spec(run_id=f"run-{i % 7}", job_id=f"{i:032x}"))
        if i % 26 == 0:
            store.claim(spec, "t", 120)
            store.mark_submitted(spec, f"batch-{i}", None)
            live.add(spec.job_id)
        elif i % 2:
            store.mark_failed(spec.run_id, spec.job_id, "exit code 1")
        else:  # a job that ran: live while RUNNING, out of the index once SUCCEEDED
            running = state_change("batch_job_running", spec.run_id, spec.job_id, jobId=f"batch-{i}")
            store.apply_state_change(parse_state_change(running).detail)
            succeeded = state_change("batch_job_succeeded", spec.run_id, spec.job_id, jobId=f"batch-{i}")
            store.apply_state_change(parse_state_change(succeeded).detail)
    queries = record_calls(store.client, "Query")

    # WHEN the schedule's sweep looks for live jobs with no news
    stale = stale_records(store, "9999")

    # THEN it finds exactly the live ones, reading only the live-jobs index (one Query per shard)
    assert {r.job_id for r in stale} == live
    assert len(queries) == 16 and all(q["IndexName"] == "live_jobs" for q in queries)
