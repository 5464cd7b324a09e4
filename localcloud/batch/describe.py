"""The job object DescribeJobs, ListJobs and the state-change events report, from a RuntimeJob."""

from __future__ import annotations

import copy
from typing import Any

from .lifecycle import RuntimeJob


def describe(record: RuntimeJob, with_tags: bool = True) -> dict[str, Any]:
    """DescribeJobs' job; events use the same object without tags (the event schema has none)."""
    job = record.job
    container = copy.deepcopy(record.container)
    if record.log_stream:
        container["logStreamName"] = record.log_stream
    if record.exit_code is not None:
        container["exitCode"] = record.exit_code
    if record.container_reason:
        container["reason"] = record.container_reason
    result: dict[str, Any] = {
        "jobArn": job.arn,
        "jobName": record.name,
        "jobId": record.job_id,
        "jobQueue": job.job_queue.arn,
        "status": record.status,
        "attempts": copy.deepcopy(record.attempts),
        "createdAt": record.created_ms,
        "dependsOn": copy.deepcopy(job.depends_on or []),
        "jobDefinition": job.job_definition.arn,
        "parameters": dict(job.parameters),
        "container": container,
        "propagateTags": record.propagate_tags,
        "platformCapabilities": list(job.job_definition.platform_capabilities or ["EC2"]),
    }
    if record.status_reason is not None:
        result["statusReason"] = record.status_reason
    if record.started_ms is not None:
        result["startedAt"] = record.started_ms
    if record.stopped_ms is not None:
        result["stoppedAt"] = record.stopped_ms
    if record.retry_strategy:
        result["retryStrategy"] = copy.deepcopy(record.retry_strategy)
    if record.timeout:
        result["timeout"] = dict(record.timeout)
    if record.share_identifier:
        result["shareIdentifier"] = record.share_identifier
    result["schedulingPriority"] = record.priority
    array = array_properties(record)
    if array is not None:
        result["arrayProperties"] = array
    if with_tags:
        tags = job.backend.list_tags_for_resource(getattr(job, "tags_arn", job.arn))
        if tags:
            result["tags"] = tags
    return result


def describe_short(record: RuntimeJob) -> dict[str, Any]:
    """ListJobs' job summary."""
    job = record.job
    result: dict[str, Any] = {
        "jobArn": job.arn,
        "jobId": record.job_id,
        "jobName": record.name,
        "createdAt": record.created_ms,
        "status": record.status,
        "jobDefinition": job.job_definition.arn,
    }
    if record.status_reason is not None:
        result["statusReason"] = record.status_reason
    if record.started_ms is not None:
        result["startedAt"] = record.started_ms
    if record.stopped_ms is not None:
        result["stoppedAt"] = record.stopped_ms
    container: dict[str, Any] = {}
    if record.exit_code is not None:
        container["exitCode"] = record.exit_code
    if record.container_reason:
        container["reason"] = record.container_reason
    if container:
        result["container"] = container
    array = array_properties(record)
    if array is not None:
        result["arrayProperties"] = array
    return result


def array_properties(record: RuntimeJob) -> dict[str, Any] | None:
    """ArrayPropertiesDetail (DescribeJobs) or ArrayPropertiesSummary (ListJobs): a child's index; a
    parent's size and its children's count in each status, with when that count last changed."""
    if record.array_index is not None:
        return {"index": record.array_index}
    state = record.array
    if state is None:
        return None
    return {
        "statusSummary": dict(state.counts),
        "statusSummaryLastUpdatedAt": state.updated_ms,
        "size": state.size,
    }
