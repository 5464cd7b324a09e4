"""Settings -> control plane: from the stack's Outputs, overrides, and a clear error for each mistake."""

import json
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from snakemake_interface_common.exceptions import WorkflowError

from sls_contract import stack_outputs
from snakemake_executor_plugin_aws_basic_batch_sls.aws_errors import describe_aws_error
from snakemake_executor_plugin_aws_basic_batch_sls.config import resolve


@dataclass
class Settings:
    stack: str | None = None
    region: str | None = None
    queue_url: str | None = None
    jobs_table: str | None = None
    job_queue: str | None = None
    job_definition: str | None = None
    task_timeout: int | None = None
    tags: str | None = None
    secrets: str | None = None
    endpoint_url: str | None = None
    status_grace_seconds: int = 300
    reconcile_after_seconds: int = 300
    runnable_warning_seconds: int = 600
    array_min_size: int = 10
    run_id: str | None = None


@pytest.fixture
def stack(jobs_table, jobs_queue):
    """A CloudFormation stack whose Outputs are what template.yaml's are."""
    outputs = {
        stack_outputs.JOBS_QUEUE_URL: jobs_queue.url,
        stack_outputs.JOBS_DLQ_URL: jobs_queue.dlq_url,
        stack_outputs.JOBS_TABLE_NAME: jobs_table,
        stack_outputs.JOB_QUEUE_ARN: "arn:aws:batch:us-east-1:123456789012:job-queue/q",
        stack_outputs.JOB_DEFINITION_ARN: "arn:aws:batch:us-east-1:123456789012:job-definition/d:1",
        stack_outputs.REGION: "us-east-1",
    }
    body = {
        "Resources": {"Nothing": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    boto3.client("cloudformation").create_stack(StackName="sls", TemplateBody=json.dumps(body))
    return outputs


def test_the_stack_name_alone_is_enough(stack):
    plane, _ = resolve(Settings(stack="sls"))
    assert plane.queue_url == stack[stack_outputs.JOBS_QUEUE_URL]
    assert plane.jobs_table == stack[stack_outputs.JOBS_TABLE_NAME]
    assert plane.job_queue == stack[stack_outputs.JOB_QUEUE_ARN]
    assert plane.job_definition == stack[stack_outputs.JOB_DEFINITION_ARN]
    assert plane.dead_letter_queue_url == stack[stack_outputs.JOBS_DLQ_URL]
    assert plane.region == "us-east-1"


def test_explicit_settings_override_the_stack(stack):
    plane, _ = resolve(Settings(stack="sls", job_queue="other-queue", tags="team=a,cost=b=c"))
    assert plane.job_queue == "other-queue"
    assert plane.tags == {"team": "a", "cost": "b=c"}


def test_explicit_settings_without_a_stack(jobs_table, jobs_queue):
    plane, _ = resolve(
        Settings(queue_url=jobs_queue.url, jobs_table=jobs_table, job_queue="q", job_definition="d")
    )
    assert (plane.queue_url, plane.jobs_table) == (jobs_queue.url, jobs_table)


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (Settings(), "set --aws-basic-batch-sls-stack"),
        (Settings(queue_url="http://x"), "--aws-basic-batch-sls-jobs-table"),
        (
            Settings(stack="missing-stack"),
            "cannot read the stack 'missing-stack': Stack with id missing-stack does not exist: "
            "check --aws-basic-batch-sls-stack and --aws-basic-batch-sls-region",
        ),
        (Settings(stack="sls", task_timeout=30), "task-timeout is 30; AWS Batch needs at least 60"),
        (Settings(stack="sls", tags="novalue"), "tags: tag 'novalue' is not key=value"),
        (Settings(stack="sls", tags="aws:x=1"), "reserves"),
        (Settings(stack="sls", tags=",".join(f"k{i}=v" for i in range(47))), "at most 46"),
        (Settings(stack="sls", secrets="not json"), "--aws-basic-batch-sls-secrets must be a JSON list"),
        (Settings(stack="sls", secrets='[{"name": "A", "valueFrom": "plain"}]'), "valueFrom"),
        (
            Settings(stack="sls", queue_url="https://sqs.us-east-1.amazonaws.com/123456789012/nope"),
            "jobs queue",
        ),
        (Settings(stack="sls", jobs_table="nope"), "cannot use the jobs table nope"),
        (Settings(stack="sls", status_grace_seconds=1), "status-grace-seconds"),
        (
            Settings(stack="sls", array_min_size=1),
            "array-min-size is 1: an AWS Batch array has at least 2 jobs",
        ),
    ],
)
def test_every_wrong_setting_says_what_to_fix(stack, settings, expected):
    with pytest.raises(WorkflowError) as info:
        resolve(settings)
    assert expected in str(info.value)


def test_a_services_own_endpoint_variable_wins_over_the_endpoint_url_setting(monkeypatch: Any) -> None:
    from snakemake_executor_plugin_aws_basic_batch_sls.config import Clients

    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:4567")
    clients = Clients("us-east-1", "http://127.0.0.1:1234")

    assert clients("dynamodb").meta.endpoint_url == "http://127.0.0.1:4567"
    assert clients("sqs").meta.endpoint_url == "http://127.0.0.1:1234"
    assert clients("stepfunctions").meta.endpoint_url == "http://127.0.0.1:1234"


def test_an_unreachable_endpoint_is_named_with_the_option_to_check():
    # (resolve() against a closed port says the same after botocore's 10 attempts, about 25 s)
    down = EndpointConnectionError(endpoint_url="http://127.0.0.1:9/")
    assert describe_aws_error(down, "--aws-basic-batch-sls-") == (
        "cannot reach http://127.0.0.1:9/: check --aws-basic-batch-sls-endpoint-url "
        "(is the local cloud running?) or your network"
    )
    assert "check --endpoint-url" in describe_aws_error(down)  # the CLI's option
