"""moto resources built from template.yaml's own properties, so unit tests cannot drift from the template."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from localcloud.sam_template import DUMMY_ACCOUNT

REGION = "us-east-1"


def resource(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    return template["Resources"][logical_id]


def properties(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    return resource(template, logical_id).get("Properties", {})


def parameter_default(template: dict[str, Any], ref: Any) -> Any:
    """The default of a parameter given as {"Ref": name}; plain values pass through."""
    if isinstance(ref, dict) and set(ref) == {"Ref"}:
        return template["Parameters"][ref["Ref"]]["Default"]
    return ref


def function_environment(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    """The environment a function gets (SAM has already merged Globals into the translation)."""
    return properties(template, logical_id).get("Environment", {}).get("Variables", {})


def create_jobs_table(dynamodb: Any, template: dict[str, Any], table_name: str) -> str:
    """CreateTable with JobsTable's key schema, attributes, GSIs, SSE; then its TTL and PITR."""
    props = properties(template, "JobsTable")
    request: dict[str, Any] = {
        "TableName": table_name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props["BillingMode"],
    }
    if "GlobalSecondaryIndexes" in props:
        request["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    if "SSESpecification" in props:
        request["SSESpecification"] = {"Enabled": props["SSESpecification"]["SSEEnabled"]}
    dynamodb.create_table(**request)
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        dynamodb.update_time_to_live(
            TableName=table_name,
            TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": ttl["Enabled"]},
        )
    pitr = props.get("PointInTimeRecoverySpecification")
    if pitr:
        dynamodb.update_continuous_backups(
            TableName=table_name,
            PointInTimeRecoverySpecification={
                "PointInTimeRecoveryEnabled": pitr["PointInTimeRecoveryEnabled"]
            },
        )
    return table_name


@dataclass(frozen=True)
class Queue:
    url: str
    arn: str
    dlq_url: str
    dlq_arn: str
    max_receive_count: int


def _queue_attributes(template: dict[str, Any], logical_id: str) -> dict[str, str]:
    props = properties(template, logical_id)
    return {
        key: str(props[key]).lower() if isinstance(props[key], bool) else str(props[key])
        for key in ("VisibilityTimeout", "MessageRetentionPeriod", "SqsManagedSseEnabled")
        if key in props
    }


def create_queue_with_dlq(sqs: Any, template: dict[str, Any], logical_id: str, dlq_logical_id: str) -> Queue:
    """The queue and its dead-letter queue with the template's attributes and redrive policy."""
    dlq_url = sqs.create_queue(
        QueueName=f"test-{dlq_logical_id}", Attributes=_queue_attributes(template, dlq_logical_id)
    )["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = properties(template, logical_id)["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": [dlq_logical_id, "Arn"]}
    max_receive_count = int(parameter_default(template, redrive["maxReceiveCount"]))
    attributes = _queue_attributes(template, logical_id)
    attributes["RedrivePolicy"] = json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count}
    )
    url = sqs.create_queue(QueueName=f"test-{logical_id}", Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return Queue(url, arn, dlq_url, dlq_arn, max_receive_count)


@dataclass(frozen=True)
class BatchEnv:
    """The user's Batch infrastructure (the stack only receives these as parameters)."""

    compute_environment_arn: str
    job_queue: str
    job_queue_arn: str
    job_definition: str
    job_definition_arn: str
    fargate_job_definition: str
    fargate_job_definition_arn: str


def create_batch_env(batch: Any, iam: Any) -> BatchEnv:
    role = iam.create_role(
        RoleName="test-batch-service-role",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "batch.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    compute = batch.create_compute_environment(
        computeEnvironmentName="test-compute", type="UNMANAGED", state="ENABLED", serviceRole=role
    )["computeEnvironmentArn"]
    queue = batch.create_job_queue(
        jobQueueName="test-queue",
        state="ENABLED",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": compute}],
    )["jobQueueArn"]
    definition = batch.register_job_definition(
        jobDefinitionName="test-job",
        type="container",
        containerProperties={
            "image": "public.ecr.aws/docker/library/python:3.12-slim",
            "command": ["true"],
            "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "1024"}],
        },
    )["jobDefinitionArn"]
    fargate = batch.register_job_definition(
        jobDefinitionName="test-fargate-job",
        type="container",
        platformCapabilities=["FARGATE"],
        containerProperties={
            "image": "public.ecr.aws/docker/library/python:3.12-slim",
            "command": ["true"],
            "executionRoleArn": f"arn:aws:iam::{DUMMY_ACCOUNT}:role/test-execution-role",
            "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "2048"}],
        },
    )["jobDefinitionArn"]
    return BatchEnv(
        compute_environment_arn=compute,
        job_queue="test-queue",
        job_queue_arn=queue,
        job_definition="test-job",
        job_definition_arn=definition,
        fargate_job_definition="test-fargate-job",
        fargate_job_definition_arn=fargate,
    )
