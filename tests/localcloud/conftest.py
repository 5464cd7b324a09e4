"""Fixtures for the local Batch runtime: a moto server on loopback and a Batch + EventBridge setup."""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer

from localcloud.batch import BatchRuntime, BatchRuntimeConfig, install, uninstall
from tests.support.polling import wait_until


def wait_for(predicate: Callable[[], Any], timeout: float = 15.0) -> Any:
    return wait_until(predicate, timeout, interval=0.05)


REGION = "us-east-1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def wait() -> Callable[..., Any]:
    """The deadline poller, for test modules (they cannot import this conftest by name)."""
    return wait_for


@pytest.fixture(scope="session")
def endpoint() -> Iterator[str]:
    port = _free_port()
    os.environ.update(
        MOTO_PORT=str(port),
        AWS_DEFAULT_REGION=REGION,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
    )
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    uninstall()
    server.stop()


@pytest.fixture
def client(endpoint: str) -> Callable[..., Any]:
    """boto3 clients on the moto server, with no client-side retries (tests see throttling)."""

    def make(service: str) -> Any:
        config = Config(retries={"total_max_attempts": 1, "mode": "standard"})
        return boto3.client(service, endpoint_url=endpoint, region_name=REGION, config=config)

    return make


@pytest.fixture
def runtime_factory(endpoint: str, tmp_path: Any) -> Iterator[Callable[..., BatchRuntime]]:
    """install() with test-friendly defaults; the runtime is stopped after the test."""

    def make(**overrides: Any) -> BatchRuntime:
        settings: dict[str, Any] = {
            "work_root": tmp_path / "batch",
            "min_timeout_seconds": 1,
            "submit_tps": None,
        }
        settings.update(overrides)
        return install(BatchRuntimeConfig(**settings))

    yield make
    uninstall()


@dataclass
class BatchSetup:
    batch: Any
    sqs: Any
    logs: Any
    queue_arn: str
    queue_name: str
    job_definition: str
    events_url: str
    events: Any
    rule: str
    received: list[dict[str, Any]] = field(default_factory=list)

    def submit(self, name: str, command: str, **kwargs: Any) -> str:
        overrides = kwargs.pop("containerOverrides", {})
        overrides.setdefault("command", ["/bin/bash", "-c", command])
        response = self.batch.submit_job(
            jobName=name,
            jobQueue=self.queue_name,
            jobDefinition=self.job_definition,
            containerOverrides=overrides,
            **kwargs,
        )
        return str(response["jobId"])

    def job(self, job_id: str) -> dict[str, Any]:
        return dict(self.batch.describe_jobs(jobs=[job_id])["jobs"][0])

    def wait_done(self, job_id: str, timeout: float = 15.0) -> dict[str, Any]:
        return wait_for(
            lambda: (job := self.job(job_id))["status"] in ("SUCCEEDED", "FAILED") and job, timeout=timeout
        )

    def drain_events(self) -> list[dict[str, Any]]:
        """Everything the EventBridge rule delivered to SQS so far (appended to ``received``)."""
        while True:
            messages = self.sqs.receive_message(QueueUrl=self.events_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                return self.received
            for message in messages:
                self.received.append(json.loads(message["Body"]))
            self.sqs.delete_message_batch(
                QueueUrl=self.events_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )

    def wait_event(self, job_id: str, status: str, timeout: float = 15.0) -> list[str]:
        """Drain the queue until ``job_id``'s ``status`` event arrived; returns the job's statuses."""
        return wait_for(
            lambda: self.drain_events() and status in self.statuses(job_id) and self.statuses(job_id), timeout
        )

    def statuses(self, job_id: str) -> list[str]:
        return [e["detail"]["status"] for e in self.received if e["detail"]["jobId"] == job_id]


@pytest.fixture
def batch_setup(client: Callable[..., Any]) -> Iterator[BatchSetup]:
    """GIVEN a FARGATE CE with maxvCpus 2, a queue, a job definition and an aws.batch rule -> SQS."""
    suffix = uuid.uuid4().hex[:8]
    iam, ec2, batch, events, sqs = (client(s) for s in ("iam", "ec2", "batch", "events", "sqs"))
    role = iam.create_role(RoleName=f"batch-{suffix}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    group = ec2.describe_security_groups()["SecurityGroups"][0]["GroupId"]
    ce = batch.create_compute_environment(
        computeEnvironmentName=f"ce-{suffix}",
        type="MANAGED",
        state="ENABLED",
        serviceRole=role,
        computeResources={"type": "FARGATE", "maxvCpus": 2, "subnets": [subnet], "securityGroupIds": [group]},
    )
    queue = batch.create_job_queue(
        jobQueueName=f"jq-{suffix}",
        priority=1,
        state="ENABLED",
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": ce["computeEnvironmentArn"]}],
    )
    batch.register_job_definition(
        jobDefinitionName=f"jd-{suffix}",
        type="container",
        containerProperties={
            "image": "public.ecr.aws/docker/library/python:3.12",
            "command": ["/bin/true"],
            "environment": [{"name": "FROM_DEFINITION", "value": "jd"}],
            "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "512"}],
        },
    )
    events_url = sqs.create_queue(QueueName=f"events-{suffix}")["QueueUrl"]
    events_arn = sqs.get_queue_attributes(QueueUrl=events_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    pattern = {"source": ["aws.batch"], "detail": {"jobQueue": [queue["jobQueueArn"]]}}
    events.put_rule(Name=f"batch-{suffix}", EventPattern=json.dumps(pattern))
    events.put_targets(Rule=f"batch-{suffix}", Targets=[{"Id": "sqs", "Arn": events_arn}])
    yield BatchSetup(
        batch=batch,
        sqs=sqs,
        logs=client("logs"),
        queue_arn=queue["jobQueueArn"],
        queue_name=f"jq-{suffix}",
        job_definition=f"jd-{suffix}",
        events_url=events_url,
        events=events,
        rule=f"batch-{suffix}",
    )
    if events.list_targets_by_rule(Rule=f"batch-{suffix}")["Targets"]:
        events.remove_targets(Rule=f"batch-{suffix}", Ids=["sqs"])
    events.delete_rule(Name=f"batch-{suffix}")
