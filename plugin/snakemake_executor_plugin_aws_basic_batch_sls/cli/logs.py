"""A job's CloudWatch log: which job the operator means, its log stream, every page of events."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from sls_contract.job_record import DEFAULT_LOG_GROUP, JobRecord
from sls_contract.run_record import COORDINATOR_JOB_ID, RunRecord

from .errors import CliError

if TYPE_CHECKING:
    from mypy_boto3_batch import BatchClient
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_logs.type_defs import OutputLogEventTypeDef


def find_job(run_id: str, records: Sequence[JobRecord], run: RunRecord | None, key: str) -> JobRecord:
    """The job named by its job id, its Batch job id, a rule with one job, or `coordinator`."""
    for record in records:
        if key in (record.job_id, record.batch_job_id):
            return record
    by_rule = [r for r in records if r.rule == key]
    if len(by_rule) == 1:
        return by_rule[0]
    if by_rule:
        ids = ", ".join(r.batch_job_id or r.job_id for r in by_rule[:10])
        more = f" and {len(by_rule) - 10} more" if len(by_rule) > 10 else ""
        raise CliError(
            f"rule {key!r} has {len(by_rule)} jobs in run {run_id}; name one by its Batch job id: {ids}{more}"
        )
    if key == COORDINATOR_JOB_ID and run is not None:
        if run.coordinator_job_id:
            return JobRecord(run_id=run_id, job_id=COORDINATOR_JOB_ID, batch_job_id=run.coordinator_job_id)
        raise CliError(f"run {run_id} ({run.status}) has no coordinator job yet")
    raise CliError(
        f"run {run_id} has no job {key!r} (give a job id, a Batch job id, a rule name or "
        f"{COORDINATOR_JOB_ID!r}); `aws-basic-batch-sls show {run_id}` lists its jobs"
    )


def log_stream(record: JobRecord, batch: BatchClient) -> str | None:
    """The record's log stream; else Batch's (the record may predate the RUNNING event)."""
    if record.log_stream or not record.batch_job_id:
        return record.log_stream
    jobs = batch.describe_jobs(jobs=[record.batch_job_id])["jobs"]
    if not jobs:
        return None
    job = jobs[0]
    attempts = job.get("attempts") or []
    containers = [job.get("container") or {}, *((a.get("container") or {}) for a in reversed(attempts))]
    return next((c["logStreamName"] for c in containers if c.get("logStreamName")), None)


def log_events(
    logs: CloudWatchLogsClient, group: str, stream: str, page_size: int | None = None
) -> Iterator[OutputLogEventTypeDef]:
    """Every event from the start: GetLogEvents pages until nextForwardToken repeats."""
    request: dict[str, Any] = {"logGroupName": group, "logStreamName": stream, "startFromHead": True}
    if page_size:
        request["limit"] = page_size
    while True:
        response = logs.get_log_events(**request)
        yield from response["events"]
        token = response.get("nextForwardToken")
        if not token or token == request.get("nextToken"):
            return
        request["nextToken"] = token


def job_log(
    logs: CloudWatchLogsClient, batch: BatchClient, record: JobRecord, page_size: int | None = None
) -> Iterator[OutputLogEventTypeDef]:
    label = record.rule or record.job_id
    stream = log_stream(record, batch)
    if not stream:
        raise CliError(
            f"job {label} ({record.batch_job_id or 'not submitted'}, {record.status}) has no log "
            "stream yet: Batch creates it when the job starts running"
        )
    group = record.log_group or DEFAULT_LOG_GROUP
    try:
        yield from log_events(logs, group, stream, page_size)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            raise CliError(
                f"job {label}'s log stream {group}/{stream} does not exist (not written yet, or expired)"
            ) from exc
        raise
