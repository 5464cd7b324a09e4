"""Driving the submit_job handler in tests: specs on the moto Batch, SQS deliveries, what it recorded and made."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import boto3

from sls_contract.job_record import JobRecord
from tests.support.cloud import BatchEnv
from tests.support.events import sqs_event, sqs_record
from tests.support.specs import minimal_spec

THROTTLED = ("TooManyRequestsException", "Too Many Requests", 429)


def spec_on(batch_env: BatchEnv, **overrides: Any) -> dict[str, Any]:
    return minimal_spec(
        **{"job_queue": batch_env.job_queue, "job_definition": batch_env.job_definition, **overrides}
    )


def deliver(app: ModuleType, context: Any, *records: dict[str, Any]) -> dict[str, Any]:
    return app.lambda_handler(sqs_event(*records), context)


def message(spec: dict[str, Any], message_id: str = "msg-1", receive_count: int = 1) -> dict[str, Any]:
    return sqs_record(json.dumps(spec), message_id, receive_count)


def record_of(app: ModuleType, run_id: str = "run-1", job_id: str = "job-00000001") -> JobRecord:
    return app.store.get_records(run_id, [job_id])[job_id]


def batch_jobs(batch_env: BatchEnv) -> list[dict[str, Any]]:
    batch = boto3.client("batch")
    summaries = batch.list_jobs(jobQueue=batch_env.job_queue, filters=[{"name": "JOB_NAME", "values": ["*"]}])
    ids = [job["jobId"] for job in summaries["jobSummaryList"]]
    return batch.describe_jobs(jobs=ids)["jobs"] if ids else []
