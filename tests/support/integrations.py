"""A local cloud with probe functions, a queue per target and a Batch queue, for the integration tests."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from localcloud.cloud import LocalCloud
from tests.support.polling import wait_until


def wait_for(predicate: Callable[[], Any], timeout: float = 60.0) -> Any:
    return wait_until(predicate, timeout, interval=0.2)


PROBE_HANDLER = """
import json, os, boto3


def handler(event, context):
    boto3.client("sqs").send_message(
        QueueUrl=os.environ["PROBE_QUEUE_URL"],
        MessageBody=json.dumps({"function": context.function_name, "event": event}),
    )
    if isinstance(event, dict) and event.get("fail"):
        raise ValueError("asked to fail")
    n = event.get("n", 0) if isinstance(event, dict) else 0
    return {"doubled": n * 2, "greeting": os.environ["GREETING"]}
"""


class Queue:
    """An SQS queue and everything received from it so far."""

    def __init__(self, cloud: LocalCloud, name: str) -> None:
        self.sqs = cloud.client("sqs")
        self.url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        self.arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.received: list[dict[str, Any]] = []

    def drain(self) -> list[dict[str, Any]]:
        while messages := self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get("Messages"):
            self.received.extend(json.loads(m["Body"]) for m in messages)
            self.sqs.delete_message_batch(
                QueueUrl=self.url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )
        return self.received

    def wait(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 60.0) -> dict[str, Any]:
        return wait_for(lambda: next((m for m in self.drain() if predicate(m)), None), timeout)


class Setup:
    def __init__(self, cloud: LocalCloud, code_dir: Path) -> None:
        self.cloud = cloud
        self.probe = Queue(cloud, "probe")
        self.events = Queue(cloud, "events")
        iam = cloud.client("iam")
        self.role = iam.create_role(RoleName="integrations-test", AssumeRolePolicyDocument="{}")["Role"][
            "Arn"
        ]
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as zipped:
            zipped.writestr("probe.py", PROBE_HANDLER)
        self.function = "probe"
        self.function_arn = cloud.client("lambda").create_function(
            FunctionName=self.function,
            Runtime="python3.12",
            Role=self.role,
            Handler="probe.handler",
            Code={"ZipFile": archive.getvalue()},
            Timeout=30,
            Environment={"Variables": {"PROBE_QUEUE_URL": self.probe.url, "GREETING": "hello"}},
        )["FunctionArn"]
        (code_dir / "probe.py").write_text(PROBE_HANDLER)
        cloud.integrations.register_function(self.function, code_dir)

    def machine(self, name: str, definition: dict[str, Any]) -> str:
        return self.cloud.client("stepfunctions").create_state_machine(
            name=name, definition=json.dumps(definition), roleArn=self.role
        )["stateMachineArn"]

    def execute(self, machine_arn: str, payload: dict[str, Any], timeout: float = 120) -> dict[str, Any]:
        sfn = self.cloud.client("stepfunctions")
        arn = sfn.start_execution(stateMachineArn=machine_arn, input=json.dumps(payload))["executionArn"]
        return wait_for(
            lambda: (d := sfn.describe_execution(executionArn=arn))["status"] != "RUNNING" and d, timeout
        )

    def rule_to_events_queue(self, name: str, pattern: dict[str, Any]) -> None:
        events = self.cloud.client("events")
        events.put_rule(Name=name, EventPattern=json.dumps(pattern))
        events.put_targets(Rule=name, Targets=[{"Id": "sqs", "Arn": self.events.arn}])


def probe_calls(setup: Setup, marker: str) -> list[dict[str, Any]]:
    return [m["event"] for m in setup.probe.drain() if marker in json.dumps(m["event"])]


def batch_task(setup: Setup, command: str, **extra: Any) -> dict[str, Any]:
    infra = setup.cloud.deployment.infra_outputs
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::batch:submitJob.sync",
        "Parameters": {
            "JobName": "sfn-job",
            "JobQueue": infra["JobQueueArn"],
            "JobDefinition": infra["JobDefinitionArn"],
            "ContainerOverrides": {
                "Command": ["bash", "-c", command],
                "Environment": [{"Name": "FROM_SFN", "Value": "yes"}],
            },
        },
        **extra,
    }
