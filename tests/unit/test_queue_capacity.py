"""A job no compute environment of its queue can hold is refused with the reason, not left RUNNABLE."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import boto3
import pytest

from sls_contract.queue_capacity import QueueCapacity
from sls_contract.status import JobStatus
from tests.support.aws_calls import error_response, on_call, record_calls
from tests.support.cloud import REGION, BatchEnv
from tests.support.events import sqs_record
from tests.support.specs import minimal_spec


@pytest.fixture
def fargate_queue(batch_env: BatchEnv) -> str:
    """A queue whose one compute environment is MANAGED Fargate with maxvCpus 4."""
    batch = boto3.client("batch", region_name=REGION)
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="batch", Description="batch", VpcId=vpc)["GroupId"]
    role = boto3.client("iam", region_name=REGION).get_role(RoleName="test-batch-service-role")["Role"]["Arn"]
    compute = batch.create_compute_environment(
        computeEnvironmentName="fargate-4",
        type="MANAGED",
        state="ENABLED",
        serviceRole=role,
        computeResources={"type": "FARGATE", "maxvCpus": 4, "subnets": [subnet], "securityGroupIds": [group]},
    )["computeEnvironmentArn"]
    return batch.create_job_queue(
        jobQueueName="small-queue",
        state="ENABLED",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": compute}],
    )["jobQueueArn"]


def test_more_vcpus_than_the_largest_environment_is_named_with_what_to_do(fargate_queue: str) -> None:
    capacity = QueueCapacity(boto3.client("batch", region_name=REGION))
    assert capacity.problem(fargate_queue, vcpu=8, gpu=0) == (
        "the job asks for 8 vCPUs but the compute environments of job queue small-queue hold at most 4 "
        "(maxvCpus): it would wait in RUNNABLE forever. Lower the rule's threads / aws_batch_vcpu, or route "
        "it (aws_batch_job_queue) to a queue with a larger compute environment"
    )
    assert capacity.problem(fargate_queue, vcpu=4, gpu=0) is None
    assert "has only Fargate compute environments, which have no GPUs" in capacity.problem(
        fargate_queue, vcpu=1, gpu=1
    )


def test_what_cannot_be_known_is_not_refused(batch_env: BatchEnv) -> None:
    batch = boto3.client("batch", region_name=REGION)
    capacity = QueueCapacity(batch)
    assert capacity.problem(batch_env.job_queue, vcpu=1000, gpu=8) is None  # UNMANAGED: unknown size
    assert capacity.problem("no-such-queue", vcpu=1000, gpu=0) is None  # SubmitJob will say so
    denied = QueueCapacity(boto3.client("batch", region_name=REGION))
    on_call(denied.batch, "DescribeJobQueues", lambda _: error_response("AccessDeniedException", "no", 403))
    assert denied.problem(batch_env.job_queue, vcpu=1000, gpu=0) is None


def test_a_queue_is_described_once(fargate_queue: str) -> None:
    capacity = QueueCapacity(boto3.client("batch", region_name=REGION))
    calls = record_calls(capacity.batch, "DescribeJobQueues")
    for vcpu in (1, 2, 8):
        capacity.problem(fargate_queue, vcpu=vcpu, gpu=0)
    assert len(calls) == 1


def test_the_submit_function_records_a_job_too_big_for_its_queue_as_failed(
    submit_app: ModuleType, batch_env: BatchEnv, fargate_queue: str, lambda_context: Any
) -> None:
    sent = record_calls(submit_app.batch, "SubmitJob")
    spec = minimal_spec(job_queue=fargate_queue, job_definition=batch_env.job_definition, vcpu=8)

    response = submit_app.lambda_handler(
        {"Records": [sqs_record(json.dumps(spec), "msg-1", 1)]}, lambda_context
    )

    assert response == {"batchItemFailures": []}
    assert sent == []
    [record] = submit_app.store.run_jobs(spec["run_id"])
    assert record.status == JobStatus.FAILED
    assert record.status_reason.startswith("the job asks for 8 vCPUs but the compute environments")
