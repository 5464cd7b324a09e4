"""SubmitJob as the local runtime handles it: throttling, AWS validation, and the new job's record."""

from __future__ import annotations

import json
from typing import Any

from moto.batch.exceptions import ClientException
from moto.batch.models import JOB_NAME_REGEX, Job, batch_backends

from .arrays import submit_array, validate_array
from .engine import Engine
from .faults import SubmitGate
from .lifecycle import RuntimeJob, effective_container, validate_retry_strategy, vcpus_of

# AWS Batch service quota: "Maximum job payload size (for SubmitJob API operations): 30 KiB".
SUBMIT_PAYLOAD_MAX = 30 * 1024


def handle_submit(engine: Engine, gate: SubmitGate, response: Any) -> str:
    """The body of moto's BatchResponse.submitjob, for jobs this runtime runs."""
    gate.check()
    if len(response.body.encode() if isinstance(response.body, str) else response.body) > SUBMIT_PAYLOAD_MAX:
        raise ClientException(f"The job payload exceeds the maximum size of {SUBMIT_PAYLOAD_MAX // 1024} KiB")
    param = response._get_param
    backend = batch_backends[response.current_account][response.region]
    job_name = param("jobName")
    if not job_name or JOB_NAME_REGEX.match(job_name) is None:
        raise ClientException("Job name should match valid pattern")
    job_def = backend.get_job_definition(param("jobDefinition"))
    if job_def is None:
        raise ClientException(f"Job definition {param('jobDefinition')} does not exist")
    if job_def.container_properties is None:
        raise ClientException("The local Batch runtime only runs container job definitions")
    queue = backend.get_job_queue(param("jobQueue"))
    if queue is None:
        raise ClientException(f"Job queue {param('jobQueue')} does not exist")
    array_size = (param("arrayProperties") or {}).get("size")
    problem = validate_array(param("arrayProperties"), param("dependsOn"))
    if problem:
        raise ClientException(problem)
    timeout = param("timeout") or job_def.timeout or None
    if timeout and int(timeout.get("attemptDurationSeconds", 0)) < engine.config.min_timeout_seconds:
        raise ClientException(
            f"timeout.attemptDurationSeconds must be at least {engine.config.min_timeout_seconds} seconds"
        )
    retry_strategy = param("retryStrategy") or job_def.retry_strategy or None
    problem = validate_retry_strategy(retry_strategy)
    if problem:
        raise ClientException(problem)
    priority = param("schedulingPriorityOverride")
    if priority is not None and not 0 <= int(priority) <= 9999:
        raise ClientException("schedulingPriorityOverride must be between 0 and 9999")
    overrides = param("containerOverrides") or {}
    job = Job(
        job_name,
        job_def,
        queue,
        backend,
        log_backend=backend.logs_backend,
        container_overrides=overrides,
        eks_properties_override=None,
        depends_on=param("dependsOn"),
        all_jobs=backend._jobs,
        timeout=timeout,
        array_properties={"size": array_size} if array_size is not None else {},
        parameters=param("parameters"),
        tags=param("tags"),
    )
    job._transitions = []  # moto's ManagedState must not advance the status on its own
    container = effective_container(job_def.container_properties, overrides, job.parameters)
    propagate = param("propagateTags")
    record = RuntimeJob(
        job=job,
        account=response.current_account,
        region=response.region,
        seq=engine.next_seq(),
        priority=int(priority if priority is not None else getattr(job_def, "scheduling_priority", 0) or 0),
        vcpus=vcpus_of(container),
        container=container,
        retry_strategy=retry_strategy,
        timeout=timeout,
        propagate_tags=bool(job_def.propagate_tags if propagate is None else propagate),
        share_identifier=param("shareIdentifier"),
    )
    job._lc_record = record
    backend._jobs[job.job_id] = job
    if array_size is not None:
        submit_array(engine, record, array_size)  # one SubmitJob (one quota token) whatever the size
    else:
        engine.submit(record)
    return json.dumps({"jobArn": job.arn, "jobName": job_name, "jobId": job.job_id})


def bulk(engine: Engine, response: Any, action: str) -> str:
    """TerminateJobs / CancelJobs: up to 50 ids; unknown ids count as successful, as AWS."""
    jobs = response._get_param("jobs") or []
    reason = response._get_param("reason") or ""
    if not jobs or len(jobs) > 50:
        raise ClientException("jobs must contain between 1 and 50 job IDs")
    if not reason:
        raise ClientException("'reason' is a required field (cannot be an empty string)")
    backend = batch_backends[response.current_account][response.region]
    successful, errors = [], []
    for job_id in jobs:
        try:
            if action == "terminate":
                backend.terminate_job(job_id, reason)
            else:
                backend.cancel_job(job_id, reason)
            successful.append(job_id)
        except ClientException as exc:
            errors.append({"job": job_id, "code": "ClientException", "message": exc.message})
    return json.dumps({"successful": successful, "errors": errors})
