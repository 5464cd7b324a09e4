"""EventBridge rules deliver to Lambda functions and Step Functions state machines, as on AWS.

moto's ``Rule.send_to_targets`` raises NotImplementedError for both, ignores a target's ``Input`` and
``InputPath``, delivers to DISABLED rules and matches every event against a schedule-only rule (its
pattern is empty). The replacement:

- skips DISABLED rules, and schedule-only rules for put events (only their schedule fires them);
- gives each target what AWS gives it: ``Input`` (constant JSON) replaces the event, ``InputPath``
  selects part of it, ``InputTransformer`` is moto's; otherwise the event with an ISO 8601 ``time``;
- Lambda targets: an asynchronous (Event) invocation of the real handler, in a thread;
- Step Functions targets: StartExecution with that input, in a thread;
- everything else (SQS, logs, buses, archives) goes to moto's own delivery, one target at a time;
- S3 events, which moto sends with one fixed id to every bus, get a fresh id and reach the default
  bus only.
"""

from __future__ import annotations

import copy
import json
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
from jsonpath_ng.ext import parse as jsonpath
from moto.awslambda.models import lambda_backends
from moto.core.utils import iso_8601_datetime_without_milliseconds, utcfromtimestamp
from moto.events.models import Rule
from moto.events.utils import _BASE_EVENT_MESSAGE, EventTemplateParser
from moto.sqs.models import sqs_backends

from .lambda_functions import FunctionRunner
from .patches import Patches

logger = logging.getLogger(__name__)
MOTO_FIXED_EVENT_ID = _BASE_EVENT_MESSAGE["id"]


def aws_event(event: dict[str, Any]) -> dict[str, Any]:
    """The event as a target receives it: ``time`` in ISO 8601, no moto-internal fields."""
    delivered = {k: v for k, v in event.items() if k != "ingestion-time"}
    if isinstance(delivered.get("time"), (int, float)):
        delivered["time"] = iso_8601_datetime_without_milliseconds(utcfromtimestamp(delivered["time"]))
    return delivered


def target_input(target: dict[str, Any], event: dict[str, Any]) -> Any:
    if "Input" in target:
        return json.loads(target["Input"])
    if "InputPath" in target:
        matches = jsonpath(target["InputPath"]).find(aws_event(event))
        return matches[0].value if matches else None
    if "InputTransformer" in target:
        transformer = target["InputTransformer"]
        return EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event=event,
        )
    return aws_event(event)


class TargetDelivery:
    def __init__(self, runner: FunctionRunner, env: dict[str, str]) -> None:
        self.runner = runner
        self.env = env
        self.pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="event-target")
        self.moto_send_to_targets: Any = Rule.send_to_targets  # moto's, for the targets it handles

    def deliver(self, rule: Rule, event: dict[str, Any], transform_input: bool = True) -> None:
        """Send ``event`` to every target of ``rule`` (already matched)."""
        for target in rule.targets:
            service = target["Arn"].split(":")[2]
            if service == "lambda":
                self._to_lambda(rule, target, target_input(target, event))
            elif service == "states":
                payload = json.dumps(target_input(target, event))
                self.pool.submit(self._start_execution, target["Arn"], payload)
            elif service == "sqs" and ("Input" in target or "InputPath" in target):
                body = json.dumps(target_input(target, event))
                group = target.get("SqsParameters", {}).get("MessageGroupId")
                sqs_backends[rule.account_id][rule.region_name].send_message(
                    queue_name=target["Arn"].rsplit(":", 1)[1], message_body=body, group_id=group
                )
            else:
                one = copy.copy(rule)
                one.targets = [target]
                self.moto_send_to_targets(one, event, transform_input)

    def _to_lambda(self, rule: Rule, target: dict[str, Any], payload: Any) -> None:
        name = target["Arn"].split(":")[6]
        if not self.runner.knows(name):
            logger.warning("rule %s: %s is not a function of the local cloud; not invoked", rule.name, name)
            return
        function = lambda_backends[rule.account_id][rule.region_name].get_function(name)
        self.runner.invoke_async(name, json.dumps(payload).encode(), float(function.timeout or 3))

    def _start_execution(self, state_machine_arn: str, payload: str) -> None:
        client = boto3.client("stepfunctions", endpoint_url=self.env["AWS_ENDPOINT_URL"],
                              region_name=state_machine_arn.split(":")[3],
                              aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
                              aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"])  # fmt: skip
        try:
            client.start_execution(stateMachineArn=state_machine_arn, name=str(uuid.uuid4()), input=payload)
        except Exception:  # an undeliverable event is dropped, as EventBridge does after its retries
            logger.exception("could not start %s for an event", state_machine_arn)

    def stop(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def install(patches: Patches, delivery: TargetDelivery) -> None:
    delivery.moto_send_to_targets = Rule.send_to_targets

    def send_to_targets(self: Rule, original_event: dict[str, Any], transform_input: bool = True) -> None:
        if self.state != "ENABLED":
            return
        if self.scheduled_expression and not self.event_pattern.get_pattern():
            return
        if original_event.get("source") == "aws.s3":
            if self.event_bus_name != "default":
                return
            if original_event.get("id") == MOTO_FIXED_EVENT_ID:
                original_event["id"] = str(uuid.uuid4())  # the same dict reaches every rule: one id
        if self.event_pattern.matches_event(original_event):
            delivery.deliver(self, original_event, transform_input)

    patches.replace(Rule, "send_to_targets", send_to_targets)
