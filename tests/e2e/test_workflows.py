"""Real Snakemake runs through the whole path: SQS -> submit Lambda -> Batch -> events -> record
Lambda -> DynamoDB -> plugin, inputs and outputs in the local S3."""

import signal

import pytest

from localcloud.batch import active_runtime
from localcloud.cloud import DATA_BUCKET
from tests.support.polling import wait_until

pytestmark = pytest.mark.e2e

SAMPLES = 10  # 10 make_sample + 10 count + summary = 21 Batch jobs


def _summary(driver, run_id):
    body = driver.cloud.client("s3").get_object(Bucket=DATA_BUCKET, Key=f"{run_id}/summary.txt")["Body"]
    return int(body.read().decode().strip())


def _expected_sum(samples):
    return sum(i * 10 + 1 for i in range(samples))


def test_fan_out_of_21_batch_jobs(driver):
    run = driver.run("demo.smk", "--config", f"samples={SAMPLES}")
    assert run.returncode == 0, run.output[-3000:]
    assert _summary(driver, run.run_id) == _expected_sum(SAMPLES)
    assert len(run.records) == 2 * SAMPLES + 1
    assert {r.status for r in run.records} == {"SUCCEEDED"}
    assert all(r.exit_code == 0 and r.log_stream and r.duration_seconds() > 0 for r in run.records)
    # exactly one Batch job per Snakemake job
    assert len(driver.batch_jobs(run.run_id)) == len(run.records)
    # the run has a record of its own, listed with the coordinator's runs
    record = driver.run_store().get(run.run_id)
    assert (record.status, record.job_counts, record.cause) == (
        "SUCCEEDED",
        {"SUCCEEDED": 2 * SAMPLES + 1},
        None,
    )
    assert record.trigger.startswith("snakemake ") and record.started_at and record.finished_at
    assert run.run_id in [r.run_id for r in driver.run_store().recent(50)]


def test_failing_rule_shows_exit_code_reason_and_log(driver):
    run = driver.run("failing.smk")
    assert run.returncode != 0
    [record] = run.records
    # The container runs `python -m snakemake` for the job, which exits 1 when the rule's shell fails.
    assert (record.status, record.exit_code) == ("FAILED", 1)
    assert "exit code 1" in run.output
    assert "Essential container in task exited" in run.output
    assert f"/aws/batch/job {record.log_stream}" in run.output
    assert "its log, before Snakemake's error:\n        about to fail\n" in run.output  # what the rule said
    events = driver.cloud.client("logs").get_log_events(
        logGroupName="/aws/batch/job", logStreamName=record.log_stream
    )
    assert any("about to fail" in e["message"] for e in events["events"])
    run_record = driver.run_store().get(run.run_id)
    assert (run_record.status, run_record.cause, run_record.job_counts) == (
        "FAILED",
        "1 failed: rule broken",
        {"FAILED": 1},
    )


def test_rule_hitting_its_timeout(driver):
    run = driver.run("timeout.smk")
    assert run.returncode != 0
    [record] = run.records
    assert record.status == "FAILED"
    assert "Job attempt duration exceeded timeout" in record.status_reason
    assert "Job attempt duration exceeded timeout" in run.output


def test_retry_strategy_succeeds_on_the_second_attempt(driver):
    run = driver.run("retry.smk")
    assert run.returncode == 0, run.output[-3000:]
    [record] = run.records
    assert (record.status, record.attempts) == ("SUCCEEDED", 2)
    body = driver.cloud.client("s3").get_object(Bucket=DATA_BUCKET, Key=f"{run.run_id}/flaky.txt")["Body"]
    assert body.read().decode().strip() == "attempt 2"


def test_ctrl_c_leaves_no_job_running(driver):
    run_id, process = driver.start("hang.smk")
    try:
        wait_until(
            lambda: sum(r.status == "RUNNING" for r in driver.records(run_id)) >= 2, 120, "two jobs RUNNING"
        )
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=120)
    assert process.returncode != 0
    assert "terminated" in output
    jobs = wait_until(
        lambda: (jobs := driver.batch_jobs(run_id)) and all(j["status"] == "FAILED" for j in jobs) and jobs,
        60,
        "every Batch job of the run FAILED (terminated or cancelled)",
    )
    assert len(jobs) == 3
    assert active_runtime().running_pids() == []
    assert driver.run_store().get(run_id).status == "ABORTED"


def test_a_typo_in_a_late_rule_stops_the_run_before_any_job(driver):
    run = driver.run("late_typo.smk")
    assert run.returncode != 0
    assert run.records == []  # nothing was sent
    assert "aws-basic-batch-sls cannot run this workflow:" in run.output
    assert "rule late: resource aws_batch_vcpu='four' is not a number" in run.output
    assert "cancelled run" not in run.output  # nothing was cancelled


def test_a_job_too_big_for_every_compute_environment_fails_with_the_reason(driver):
    run = driver.run("too_big.smk")
    assert run.returncode != 0
    [record] = run.records
    assert record.status == "FAILED" and record.batch_job_id is None  # never submitted
    assert "the job asks for 64 vCPUs but the compute environments of job queue" in run.output
    assert "it would wait in RUNNABLE forever" in record.status_reason


def test_a_job_waiting_in_runnable_is_named_not_silent(driver):
    run = driver.run(
        "waits.smk",
        "--config",
        f"vcpus={driver.cloud.max_vcpus}",
        "--aws-basic-batch-sls-runnable-warning-seconds",
        "2",
    )
    assert run.returncode == 0, run.output[-3000:]
    assert "1 job(s) waiting in RUNNABLE for over 2 s (fill)" in run.output
