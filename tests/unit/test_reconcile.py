"""Jobs whose events were lost are brought up to date from DescribeJobs, never awaited forever."""

import boto3

from sls_contract.reconcile import reconcile, stale_records
from sls_contract.store import JobStore
from sls_contract.submit_request import build_submit_job_request
from tests.support.aws_calls import record_calls
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
