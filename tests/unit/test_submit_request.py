"""The SubmitJob request built from a spec: exact kwargs, and botocore's own validation accepts them."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from botocore.validate import validate_parameters

from sls_contract.submit_request import build_submit_job_request
from sls_contract.tags import STACK_TAG
from tests.support.specs import full_spec, minimal_spec, model

FULL_REQUEST = {
    "jobName": "snakemake-bwa_map-1",
    "jobQueue": "test-queue",
    "jobDefinition": "test-job",
    "containerOverrides": {
        "command": ["python", "-m", "snakemake", "--mode", "remote"],
        "environment": [
            {"name": "SLS_JOB_ID", "value": "job-00000001"},
            {"name": "SLS_RUN_ID", "value": "run-1"},
            {"name": "SNAKEMAKE_STORAGE_S3_ENDPOINT_URL", "value": "https://s3.us-east-1.amazonaws.com"},
        ],
        "resourceRequirements": [
            {"type": "VCPU", "value": "0.5"},
            {"type": "MEMORY", "value": "2048"},
            {"type": "GPU", "value": "1"},
        ],
    },
    "propagateTags": True,
    "tags": {"project": "rna-seq", "snakemake:rule": "bwa_map"},
    "timeout": {"attemptDurationSeconds": 3600},
    "retryStrategy": {
        "attempts": 3,
        "evaluateOnExit": [
            {"action": "RETRY", "onStatusReason": "Host EC2*"},
            {"action": "EXIT", "onExitCode": "1*", "onReason": "OutOfMemory*"},
        ],
    },
    "schedulingPriorityOverride": 10,
    "shareIdentifier": "genomics",
    "consumableResourcePropertiesOverride": {
        "consumableResourceList": [{"consumableResource": "licence-seats", "quantity": 2}]
    },
}

MINIMAL_REQUEST = {
    "jobName": "snakemake-bwa_map-1",
    "jobQueue": "test-queue",
    "jobDefinition": "test-job",
    "containerOverrides": {
        "command": ["python", "-m", "snakemake", "--mode", "remote"],
        "environment": [
            {"name": "SLS_JOB_ID", "value": "job-00000001"},
            {"name": "SLS_RUN_ID", "value": "run-1"},
        ],
        "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "1024"}],
    },
    "propagateTags": True,
}


def submit_job_input_shape() -> Any:
    client = boto3.client("batch", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    return client.meta.service_model.operation_model("SubmitJob").input_shape


def test_full_spec_request_carries_every_field() -> None:
    assert build_submit_job_request(model(full_spec())) == FULL_REQUEST


def test_minimal_spec_request() -> None:
    assert build_submit_job_request(model(minimal_spec())) == MINIMAL_REQUEST


def test_a_derived_job_definition_replaces_the_specs() -> None:
    derived = "arn:aws:batch:us-east-1:123456789012:job-definition/stack-derived-0123456789abcdef:1"

    request = build_submit_job_request(model(full_spec()), derived)

    assert request == {**FULL_REQUEST, "jobDefinition": derived}


def test_every_job_carries_the_stacks_tag_whatever_the_spec_says() -> None:
    # GIVEN a spec that tries to set the stack tag itself
    spec = model(minimal_spec(tags={"team": "a", STACK_TAG: "other-stack"}))

    # WHEN the request is built for this stack
    request = build_submit_job_request(spec, table="jobs-table", stack="my-stack")

    # THEN the stack's own value wins: its IAM terminates only jobs tagged with it
    assert request["tags"] == {"team": "a", STACK_TAG: "my-stack"}


def test_run_and_job_ids_always_reach_the_container_environment() -> None:
    # GIVEN a spec whose own environment tries to set the correlation variables
    spoof = {"SLS_RUN_ID": "spoofed", "SLS_JOB_ID": "spoofed", "SLS_TABLE": "other-stack", "A": "1"}
    spec = model(minimal_spec(environment=spoof))

    # WHEN the request is built for this stack's table
    environment = build_submit_job_request(spec, table="jobs-table")["containerOverrides"]["environment"]

    # THEN the spec's keys and the stack's table win, since state-change events find their record
    # (and the record function its own stack's jobs) through them
    assert environment == [
        {"name": "A", "value": "1"},
        {"name": "SLS_JOB_ID", "value": "job-00000001"},
        {"name": "SLS_RUN_ID", "value": "run-1"},
        {"name": "SLS_TABLE", "value": "jobs-table"},
    ]


@pytest.mark.parametrize(
    ("gpu", "gpu_entries"),
    [(0, []), (1, [{"type": "GPU", "value": "1"}]), (4, [{"type": "GPU", "value": "4"}])],
)
def test_gpu_only_when_requested(gpu: int, gpu_entries: list[dict[str, str]]) -> None:
    resources = build_submit_job_request(model(minimal_spec(gpu=gpu)))["containerOverrides"][
        "resourceRequirements"
    ]

    assert resources == [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "1024"}, *gpu_entries]


@pytest.mark.parametrize(("vcpu", "text"), [(1, "1"), (2.0, "2"), (0.25, "0.25"), (0.5, "0.5"), (16, "16")])
def test_vcpu_is_formatted_as_batch_wants(vcpu: float, text: str) -> None:
    resources = build_submit_job_request(model(minimal_spec(vcpu=vcpu)))["containerOverrides"][
        "resourceRequirements"
    ]

    assert resources[0] == {"type": "VCPU", "value": text}


@pytest.mark.parametrize("spec", [full_spec(), minimal_spec()], ids=["full", "minimal"])
def test_botocore_validates_the_request(spec: dict[str, Any]) -> None:
    # raises ParamValidationError listing every problem if the request does not fit SubmitJob's model
    validate_parameters(build_submit_job_request(model(spec)), submit_job_input_shape())


def test_a_stubbed_client_accepts_the_request_unchanged() -> None:
    client = boto3.client("batch", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    request = build_submit_job_request(model(full_spec()))
    with Stubber(client) as stub:
        stub.add_response(
            "submit_job",
            {"jobName": request["jobName"], "jobId": "0fce51c4-4407-4acf-975a-456125c91a18"},
            expected_params=request,
        )
        assert client.submit_job(**request)["jobId"] == "0fce51c4-4407-4acf-975a-456125c91a18"
        stub.assert_no_pending_responses()
