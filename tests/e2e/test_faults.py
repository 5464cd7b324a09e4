"""All fault knobs on (its own local cloud): duplicate SQS deliveries, duplicated / reordered /
delayed state events, throttled SubmitJob; still exactly one Batch job per Snakemake job."""

import pytest

from tests.e2e.conftest import _cloud
from tests.e2e.test_workflows import SAMPLES, _expected_sum, _summary

pytestmark = pytest.mark.e2e


def test_all_fault_knobs_still_one_batch_job_per_snakemake_job(faulty_driver):
    run = faulty_driver.run("demo.smk", "--config", f"samples={SAMPLES}")
    assert run.returncode == 0, run.output[-3000:]
    assert _summary(faulty_driver, run.run_id) == _expected_sum(SAMPLES)
    assert len(run.records) == 2 * SAMPLES + 1
    assert {r.status for r in run.records} == {"SUCCEEDED"}
    assert len(faulty_driver.batch_jobs(run.run_id)) == len(run.records)
    stats = faulty_driver.cloud.lambdas.stats()
    outputs = faulty_driver.cloud.deployment.outputs
    # the knobs did fire: the submit function saw more deliveries than there were specs (an array's
    # jobs, here the 10 samples, are one spec)
    specs = {r.array_job_id or r.job_id for r in run.records}
    assert len(specs) < len(run.records)
    assert stats[outputs["SubmitFunctionName"]]["records"] > len(specs)


@pytest.fixture
def deaf_driver(workflows):
    """Batch's state-change events never arrive: every one is dropped (its own cloud, like every
    driver here: one local cloud per process at a time)."""
    yield from _cloud(workflows, batch={"event_drop_rate": 1.0})


def test_lost_events_do_not_leave_jobs_awaited_forever(deaf_driver):
    run = deaf_driver.run(
        "demo.smk", "--config", "samples=1", "--aws-basic-batch-sls-reconcile-after-seconds", "5"
    )
    assert run.returncode == 0, run.output[-3000:]
    assert "asked the control plane to check them with Batch" in run.output
    assert {r.status for r in run.records} == {"SUCCEEDED"}
    assert _summary(deaf_driver, run.run_id) == _expected_sum(1)


def test_lost_events_of_array_children_do_not_leave_jobs_awaited_forever(deaf_driver):
    # No event of the array or of any child arrives: each child is checked with Batch by its own id
    # (PARENT:INDEX, from the array's record), so every job still ends.
    run = deaf_driver.run(
        "scatter.smk", "--config", "shards=4",
        "--aws-basic-batch-sls-array-min-size", "2", "--aws-basic-batch-sls-reconcile-after-seconds", "5",
    )  # fmt: skip
    assert run.returncode == 0, run.output[-3000:]
    children = [r for r in run.records if r.array_job_id]
    assert len(children) == 4 and {r.status for r in children} == {"SUCCEEDED"}
    assert {r.batch_job_id.rsplit(":", 1)[1] for r in children} == {"0", "1", "2", "3"}
