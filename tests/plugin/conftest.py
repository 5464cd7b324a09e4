"""Fixtures of the CLI tests: a stack whose Outputs name the jobs table, and the stores on that table."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from sls_contract import stack_outputs
from sls_contract.job_store import JobStore
from sls_contract.run_store import RunStore
from tests.support.cli import STACK
from tests.support.cloud import REGION


@pytest.fixture
def stack(jobs_table: str) -> dict[str, str]:
    """A stack whose Outputs name the jobs table and the region, as template.yaml's do."""
    outputs = {stack_outputs.JOBS_TABLE_NAME: jobs_table, stack_outputs.REGION: REGION}
    body = {
        "Resources": {"Nothing": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    boto3.client("cloudformation").create_stack(StackName=STACK, TemplateBody=json.dumps(body))
    return outputs


@pytest.fixture
def runs(dynamodb: Any, jobs_table: str) -> RunStore:
    return RunStore(dynamodb, jobs_table)


@pytest.fixture
def jobs(dynamodb: Any, jobs_table: str) -> JobStore:
    return JobStore(dynamodb, jobs_table)
