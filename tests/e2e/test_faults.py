"""All fault knobs on (its own local cloud): duplicate SQS deliveries, duplicated / reordered /
delayed state events, throttled SubmitJob; still exactly one Batch job per Snakemake job."""

import pytest

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
    # the knobs did fire: the submit function saw more deliveries than there were specs
    assert stats[outputs["SubmitFunctionName"]]["records"] > len(run.records)
