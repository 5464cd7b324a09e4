"""Shared fixtures: a moto cloud built from template.yaml, and the real Lambda handlers loaded inside it."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

REPO_ROOT = Path(__file__).resolve().parent.parent
CONTRACT_DIR = REPO_ROOT / "layers" / "contract"
for _path in (REPO_ROOT, CONTRACT_DIR):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from localcloud.sam_template import translate_template  # noqa: E402
from tests.support.cloud import (  # noqa: E402
    REGION,
    BatchEnv,
    Queue,
    create_batch_env,
    create_jobs_table,
    create_queue_with_dlq,
)
from tests.support.handlers import load_handler, unload_handler  # noqa: E402

# The caller's AWS settings that would point boto3, here or in a child process, at a profile, endpoint or
# credential source other than moto's (a developer's shell, a CI runner with a role). Removed for the session.
_CALLER_AWS_SETTINGS = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN")
_CALLER_AWS_PREFIXES = ("AWS_ENDPOINT_URL_", "AWS_CONTAINER_")

JOBS_TABLE = "test-jobs-table"


@pytest.fixture(scope="session", autouse=True)
def _no_caller_aws_settings() -> Iterator[None]:
    removed = {
        name: os.environ.pop(name)
        for name in list(os.environ)
        if name in _CALLER_AWS_SETTINGS or name.startswith(_CALLER_AWS_PREFIXES)
    }
    yield
    os.environ.update(removed)


STACK_NAME = "test-stack"
DERIVED_PREFIX = f"{STACK_NAME}-derived"


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    """template.yaml translated to CloudFormation (the SAM transform applied offline)."""
    return translate_template(REPO_ROOT / "template.yaml")


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Dummy credentials, a region and the variables template.yaml gives the functions."""
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "POWERTOOLS_SERVICE_NAME": "aws-basic-batch-sls",
        "POWERTOOLS_METRICS_NAMESPACE": "AwsBasicBatchSls",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_METRICS_DISABLED": "0",
        "JOBS_TABLE_NAME": JOBS_TABLE,
        "RECORD_TTL_DAYS": "30",
        "SUBMIT_MAX_RECEIVE_COUNT": "5",
        "DERIVED_JOB_DEFINITION_PREFIX": DERIVED_PREFIX,
        "STACK_NAME": STACK_NAME,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # In-process moto only: never an endpoint a local cloud in this process may have left behind.
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    return env


@pytest.fixture
def aws(aws_env: dict[str, str]) -> Iterator[None]:
    """moto in-process; Batch without docker (jobs go straight to SUCCEEDED)."""
    with mock_aws(config={"batch": {"use_docker": False}}):
        yield


@pytest.fixture
def dynamodb(aws: None) -> Any:
    return boto3.client("dynamodb", region_name=REGION)


@pytest.fixture
def jobs_table(aws: None, template: dict[str, Any], dynamodb: Any) -> str:
    """The jobs table created from template.yaml's JobsTable Properties; returns its name."""
    return create_jobs_table(dynamodb, template, JOBS_TABLE)


@pytest.fixture
def jobs_queue(aws: None, template: dict[str, Any]) -> Queue:
    """JobsQueue and its DLQ with the template's attributes and redrive policy."""
    sqs = boto3.client("sqs", region_name=REGION)
    return create_queue_with_dlq(sqs, template, "JobsQueue", "JobsDeadLetterQueue")


@pytest.fixture
def batch_env(aws: None) -> BatchEnv:
    """A compute environment, job queue and job definitions (plain and Fargate) in moto Batch."""
    return create_batch_env(
        boto3.client("batch", region_name=REGION), boto3.client("iam", region_name=REGION)
    )


@dataclass
class FakeLambdaContext:
    """The one LambdaContext fake of the suite."""

    function_name: str = "aws-basic-batch-sls-test-function"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = (
        "arn:aws:lambda:us-east-1:123456789012:function:aws-basic-batch-sls-test-function"
    )
    aws_request_id: str = "52fdfc07-2182-154f-163f-5f0f9a621d72"
    log_group_name: str = "/aws/lambda/aws-basic-batch-sls-test-function"
    log_stream_name: str = "2026/01/01/[$LATEST]0123456789abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.fixture
def submit_app(aws: None, jobs_table: str) -> Iterator[ModuleType]:
    """functions/submit_job/app.py imported inside the mock, with the jobs table in place."""
    module = load_handler("submit_job")
    yield module
    unload_handler(module)


@pytest.fixture
def record_app(aws: None, jobs_table: str) -> Iterator[ModuleType]:
    """functions/record_state/app.py imported inside the mock, with the jobs table in place."""
    module = load_handler("record_state")
    yield module
    unload_handler(module)
