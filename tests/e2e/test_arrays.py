"""Array jobs end to end: a scatter written as the Snakemake docs write one (tests/e2e/workflows/scatter.smk)
runs as one AWS Batch array job on the local Batch, and everything the user sees stays per job."""

from __future__ import annotations

import signal
from typing import Any

import pytest

from localcloud.batch import active_runtime
from localcloud.cloud import DATA_BUCKET
from sls_contract.job_record import JobRecord
from tests.support.polling import wait_until

pytestmark = pytest.mark.e2e

ARRAYS = ("--aws-basic-batch-sls-array-min-size", "2")
N = 6


def shards(records: list[JobRecord]) -> list[JobRecord]:
    return sorted((r for r in records if r.rule == "shard"), key=lambda r: r.array_index or 0)


def parent_of(records: list[JobRecord]) -> str:
    """The one Batch array job the shards ran in (children's ids are PARENT:INDEX)."""
    parents = {r.batch_job_id.split(":")[0] for r in shards(records) if r.batch_job_id}
    assert len(parents) == 1, parents
    return parents.pop()


def describe(driver: Any, job_id: str) -> dict[str, Any]:
    return driver.cloud.client("batch").describe_jobs(jobs=[job_id])["jobs"][0]


def gathered(driver: Any, run_id: str) -> list[list[str]]:
    body = driver.cloud.client("s3").get_object(Bucket=DATA_BUCKET, Key=f"{run_id}/gathered.txt")["Body"]
    return [line.split() for line in body.read().decode().splitlines()]


def test_a_scatter_runs_as_one_array_job_and_each_job_keeps_its_record(driver):
    run = driver.run("scatter.smk", *ARRAYS, "--config", f"shards={N}")

    assert run.returncode == 0, run.output[-3000:]
    children = shards(run.records)
    assert [r.array_index for r in children] == list(range(N))
    assert {(r.status, r.exit_code, r.attempts) for r in children} == {("SUCCEEDED", 0, 1)}
    parent = parent_of(run.records)
    assert [r.batch_job_id for r in children] == [f"{parent}:{i}" for i in range(N)]
    assert len({r.log_stream for r in children}) == N and all(r.log_stream for r in children)
    array = describe(driver, parent)
    assert (array["status"], array["arrayProperties"]["size"]) == ("SUCCEEDED", N)
    assert array["arrayProperties"]["statusSummary"]["SUCCEEDED"] == N
    # each shard ran its own command, in the child whose index its record holds
    lines = gathered(driver, run.run_id)
    assert sorted(int(i) for i, _, _ in lines) == list(range(N))
    assert sorted(int(index) for _, index, _ in lines) == list(range(N))
    # the gather is one job on its own, and the plugin said what it did
    [gather] = [r for r in run.records if r.rule == "gather"]
    assert gather.status == "SUCCEEDED" and ":" not in gather.batch_job_id
    assert f"{N} jobs of rule shard go to Batch as one array job" in run.output
    assert driver.run_store().get(run.run_id).job_counts == {"SUCCEEDED": N + 1}


def test_one_failing_child_fails_its_job_only_with_its_own_exit_code_and_log(driver):
    run = driver.run("scatter.smk", *ARRAYS, "--keep-going", "--config", f"shards={N}", "fail=2")

    assert run.returncode != 0
    children = shards(run.records)  # in array order, which need not be the wildcards' order
    [broken] = [r for r in children if r.status == "FAILED"]
    assert sorted(r.status for r in children) == ["FAILED"] + ["SUCCEEDED"] * (N - 1)
    assert broken.exit_code == 1  # `python -m snakemake` for the job exits 1 when the shell fails
    assert f"AWS Batch job {broken.batch_job_id}" in run.output and "exit code 1" in run.output
    log = driver.cloud.client("logs").get_log_events(
        logGroupName="/aws/batch/job", logStreamName=broken.log_stream
    )
    assert any("shard 2 breaks" in e["message"] for e in log["events"])
    array = describe(driver, parent_of(run.records))
    assert array["status"] == "FAILED"
    assert (
        array["arrayProperties"]["statusSummary"]["FAILED"],
        array["arrayProperties"]["statusSummary"]["SUCCEEDED"],
    ) == (1, N - 1)


def test_a_child_retried_by_batch_succeeds_on_its_second_attempt(driver):
    run = driver.run("scatter.smk", *ARRAYS, "--config", f"shards={N}", "flaky=4")

    assert run.returncode == 0, run.output[-3000:]
    children = shards(run.records)
    assert sorted(r.attempts for r in children) == [1] * (N - 1) + [2]
    assert {r.status for r in children} == {"SUCCEEDED"}
    # shard 4 wrote its output on its second attempt; the others on their first
    assert {i: attempt for i, _, attempt in gathered(driver, run.run_id)} == {
        str(i): "2" if i == 4 else "1" for i in range(N)
    }


def test_ctrl_c_mid_array_terminates_the_whole_array(driver):
    run_id, process = driver.start("scatter.smk", *ARRAYS, "--config", f"shards={N}", "sleep=600")
    try:
        wait_until(
            lambda: sum(r.status == "RUNNING" for r in shards(driver.records(run_id))) >= 2,
            120,
            "two children RUNNING",
        )
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=120)

    assert process.returncode != 0
    assert "terminated 1 Batch jobs" in output  # the array, which ends every child
    parent = parent_of(driver.records(run_id))
    wait_until(lambda: describe(driver, parent)["status"] == "FAILED", 60, "the array FAILED")
    children = driver.cloud.client("batch").describe_jobs(jobs=[f"{parent}:{i}" for i in range(N)])["jobs"]
    assert {c["status"] for c in children} == {"FAILED"}
    wait_until(
        lambda: {r.status for r in shards(driver.records(run_id))} == {"FAILED"}, 60, "every shard FAILED"
    )
    assert active_runtime().running_pids() == []
    assert driver.run_store().get(run_id).status == "ABORTED"
