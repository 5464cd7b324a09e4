"""Builds the SubmitJob request for a spec: the only place that knows SubmitJob's shape."""

from __future__ import annotations

from typing import Any

from .fargate import format_vcpu
from .job_record import JOB_ID_ENV, RUN_ID_ENV, TABLE_ENV
from .spec import JobSpec
from .tags import STACK_TAG


def build_submit_job_request(
    spec: JobSpec, job_definition: str | None = None, table: str | None = None, stack: str | None = None
) -> dict[str, Any]:
    """kwargs for batch.submit_job. `job_definition` replaces the spec's (a derived revision); `table`
    (the stack's jobs table) marks the job as this stack's for the record function; `stack` (the stack
    name) tags it as this stack's for IAM (STACK_TAG), whatever tags the spec carries."""
    environment = {
        **spec.environment,
        RUN_ID_ENV: spec.run_id,
        JOB_ID_ENV: spec.job_id,
        **({TABLE_ENV: table} if table else {}),
    }
    resources = [
        {"type": "VCPU", "value": format_vcpu(spec.vcpu)},
        {"type": "MEMORY", "value": str(spec.memory_mib)},
    ]
    if spec.gpu > 0:
        resources.append({"type": "GPU", "value": str(spec.gpu)})
    request: dict[str, Any] = {
        "jobName": spec.job_name,
        "jobQueue": spec.job_queue,
        "jobDefinition": job_definition or spec.job_definition,
        "containerOverrides": {
            "command": list(spec.command),
            "environment": [{"name": k, "value": v} for k, v in sorted(environment.items())],
            "resourceRequirements": resources,
        },
        "propagateTags": True,
    }
    tags = {**spec.tags, **({STACK_TAG: stack} if stack else {})}
    if tags:
        request["tags"] = tags
    if spec.timeout_seconds is not None:
        request["timeout"] = {"attemptDurationSeconds": spec.timeout_seconds}
    if spec.retry_strategy is not None:
        request["retryStrategy"] = spec.retry_strategy.model_dump(exclude_none=True)
    if spec.scheduling_priority is not None:
        request["schedulingPriorityOverride"] = spec.scheduling_priority
    if spec.share_identifier is not None:
        request["shareIdentifier"] = spec.share_identifier
    if spec.array_size is not None:
        request["arrayProperties"] = {"size": spec.array_size}
    if spec.consumable_resources:
        request["consumableResourcePropertiesOverride"] = {
            "consumableResourceList": [r.model_dump() for r in spec.consumable_resources]
        }
    return request
