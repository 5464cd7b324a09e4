"""Job spec payloads for tests: a minimal and a full one, as the plugin would send them."""

from __future__ import annotations

import json
from typing import Any

from sls_contract.spec import JobSpec

SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-password-AbCdEf"
PARAMETER_ARN = "arn:aws:ssm:us-east-1:123456789012:parameter/snakemake/api-token"


def minimal_spec(**overrides: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "run_id": "run-1",
        "job_id": "job-00000001",
        "workflow": "rna-seq",
        "rule": "bwa_map",
        "snakemake_jobid": 1,
        "job_name": "snakemake-bwa_map-1",
        "job_queue": "test-queue",
        "job_definition": "test-job",
        "command": ["python", "-m", "snakemake", "--mode", "remote"],
    }
    spec.update(overrides)
    return spec


def full_spec(**overrides: Any) -> dict[str, Any]:
    spec = minimal_spec(
        version=1,
        environment={"SNAKEMAKE_STORAGE_S3_ENDPOINT_URL": "https://s3.us-east-1.amazonaws.com"},
        vcpu=0.5,
        memory_mib=2048,
        gpu=1,
        timeout_seconds=3600,
        retry_strategy={
            "attempts": 3,
            "evaluateOnExit": [
                {"action": "retry", "onStatusReason": "Host EC2*"},
                {"action": "EXIT", "onExitCode": "1*", "onReason": "OutOfMemory*"},
            ],
        },
        scheduling_priority=10,
        share_identifier="genomics",
        secrets=[{"name": "DB_PASSWORD", "valueFrom": SECRET_ARN}],
        consumable_resources=[{"consumableResource": "licence-seats", "quantity": 2}],
        container_image="123456789012.dkr.ecr.us-east-1.amazonaws.com/snakemake:9.27",
        tags={"project": "rna-seq", "snakemake:rule": "bwa_map"},
    )
    spec.update(overrides)
    return spec


def message(spec: dict[str, Any]) -> str:
    return json.dumps(spec)


def model(spec: dict[str, Any]) -> JobSpec:
    return JobSpec.model_validate(spec)
