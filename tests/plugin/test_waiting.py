"""A job waiting in RUNNABLE for long is named once, with Batch's reason and what to check."""

from datetime import UTC, datetime, timedelta

from sls_contract.job_record import ISO_FORMAT, JobRecord
from snakemake_executor_plugin_aws_basic_batch_sls.waiting import long_waits

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def record(job_id, status, minutes_ago, rule="align", reason=None):
    updated = (NOW - timedelta(minutes=minutes_ago)).strftime(ISO_FORMAT)
    return JobRecord(
        run_id="r", job_id=job_id, status=status, rule=rule, updated_at=updated, status_reason=reason
    )


def test_long_runnable_jobs_are_named_once_with_batchs_reason():
    warned: set[str] = set()
    records = [
        record("j1", "RUNNABLE", 15, reason="MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - too big"),
        record("j2", "RUNNABLE", 11, rule="sort"),
        record("j3", "RUNNABLE", 2),  # not long yet
        record("j4", "RUNNING", 30),
    ]
    message = long_waits(records, 600, warned, NOW)
    assert message.startswith(
        "2 job(s) waiting in RUNNABLE for over 10 min (align, sort); Batch says: "
        "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - too big. Batch has no room for them yet"
    )
    assert "check the queue's compute environments: maxvCpus, instance types, state" in message
    assert warned == {"j1", "j2"}
    assert long_waits(records, 600, warned, NOW) is None  # said once
    assert long_waits([record("j3", "RUNNABLE", 12)], 600, warned, NOW).startswith("1 job(s)")
