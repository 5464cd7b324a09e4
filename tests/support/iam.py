"""What a function's role allows, read from the translated template, and what each AWS call needs.

The template's intrinsics (Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::Split, Fn::If) are resolved with the
names the unit tests' moto resources have, so the ARN a handler's call touches can be matched against the
Resource patterns of its role's statements. Condition blocks (the stack-tag conditions) are not evaluated:
tests/unit/test_template_iam.py holds them; here only "action on resource" is checked.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.client

from localcloud.sam_template import DUMMY_ACCOUNT
from tests.support.cloud import REGION

PARTITION = "aws"
_NO_VALUE = object()

# Managed policies SAM may attach, as far as a function's calls are concerned.
MANAGED_POLICIES = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "*",
        }
    ],
}


@dataclass
class Stack:
    """The translated template resolved for one set of parameter values and physical names."""

    template: dict[str, Any]
    stack_name: str
    parameters: dict[str, Any] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # logical id -> physical name (default: id)

    # -- intrinsics -------------------------------------------------------------------------------

    def _parameter(self, name: str) -> Any:
        if name in self.parameters:
            return self.parameters[name]
        spec = self.template["Parameters"][name]
        default = spec["Default"]
        if spec["Type"] == "CommaDelimitedList":
            return [] if default == "" else default.split(",")
        return default

    def _pseudo(self, name: str) -> str:
        return {
            "AWS::Partition": PARTITION,
            "AWS::Region": REGION,
            "AWS::AccountId": DUMMY_ACCOUNT,
            "AWS::StackName": self.stack_name,
            "AWS::URLSuffix": "amazonaws.com",
        }[name]

    def physical_name(self, logical_id: str) -> str:
        res = self.template["Resources"][logical_id]
        if res["Type"] == "AWS::Logs::LogGroup":
            return str(self.resolve(res["Properties"]["LogGroupName"]))
        if res["Type"] == "AWS::StepFunctions::StateMachine" and "StateMachineName" in res["Properties"]:
            return str(self.resolve(res["Properties"]["StateMachineName"]))
        return self.names.get(logical_id, logical_id)

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name.startswith("AWS::"):
            return self._pseudo(name)
        if name in self.template.get("Parameters", {}):
            return self._parameter(name)
        return self.physical_name(name)

    def arn(self, logical_id: str) -> str:
        """Fn::GetAtt [logical_id, Arn], as CloudFormation returns it."""
        kind = self.template["Resources"][logical_id]["Type"]
        name = self.physical_name(logical_id)
        prefix = f"arn:{PARTITION}"
        return {
            "AWS::DynamoDB::Table": f"{prefix}:dynamodb:{REGION}:{DUMMY_ACCOUNT}:table/{name}",
            "AWS::S3::Bucket": f"{prefix}:s3:::{name}",
            "AWS::SQS::Queue": f"{prefix}:sqs:{REGION}:{DUMMY_ACCOUNT}:{name}",
            "AWS::Logs::LogGroup": f"{prefix}:logs:{REGION}:{DUMMY_ACCOUNT}:log-group:{name}:*",
            "AWS::Lambda::Function": f"{prefix}:lambda:{REGION}:{DUMMY_ACCOUNT}:function:{name}",
            "AWS::IAM::Role": f"{prefix}:iam::{DUMMY_ACCOUNT}:role/{name}",
            "AWS::StepFunctions::StateMachine": f"{prefix}:states:{REGION}:{DUMMY_ACCOUNT}:stateMachine:{name}",
        }[kind]

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template["Conditions"][name]))

    def _sub(self, text: str, variables: dict[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(self.resolve(variables[name]))
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                assert attribute == "Arn", name
                return self.arn(logical_id)
            return str(self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def resolve(self, value: Any) -> Any:
        """A template fragment with every intrinsic replaced by its value (Fn::If by its condition)."""
        if isinstance(value, list):
            return [v for v in (self.resolve(item) for item in value) if v is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            [(key, arg)] = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                assert attribute == "Arn", arg
                return self.arn(logical_id)
            if key == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else arg
                return self._sub(text, variables)
            if key == "Fn::Join":
                separator, items = arg
                resolved = self.resolve(items)
                return separator.join(
                    str(v) for v in (resolved if isinstance(resolved, list) else [resolved])
                )
            if key == "Fn::Split":
                separator, text = arg
                return str(self.resolve(text)).split(separator)
            if key == "Fn::If":
                name, if_true, if_false = arg
                return self.resolve(if_true if self.condition(name) else if_false)
            if key == "Fn::Equals":
                left, right = self.resolve(arg)
                return left == right
            if key == "Fn::Not":
                return not self.resolve(arg[0])
            if key == "Fn::And":
                return all(self.resolve(arg))
            if key == "Fn::Or":
                return any(self.resolve(arg))
            if key == "Condition":
                return self.condition(arg)
        return {k: v for k, v in ((k, self.resolve(v)) for k, v in value.items()) if v is not _NO_VALUE}

    # -- roles --------------------------------------------------------------------------------------

    def role_of(self, function: str) -> str:
        role = self.template["Resources"][function]["Properties"]["Role"]
        return role["Fn::GetAtt"][0]

    def statements(self, role: str) -> list[dict[str, Any]]:
        """Every statement of the role (inline policies resolved, managed ones from MANAGED_POLICIES)."""
        props = self.template["Resources"][role]["Properties"]
        found: list[dict[str, Any]] = []
        for policy in props.get("Policies", []):
            found.extend(self.resolve(policy["PolicyDocument"])["Statement"])
        for arn in self.resolve(props.get("ManagedPolicyArns", [])):
            found.extend(MANAGED_POLICIES[arn])  # KeyError: add what that managed policy allows
        return found


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _pattern(text: str) -> re.Pattern[str]:
    """An IAM action or resource pattern: * any run of characters, ? one character."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text))


def allows(statements: list[dict[str, Any]], action: str, resource: str) -> bool:
    """Does an Allow statement grant `action` on `resource` (and no Deny statement refuse it)?"""

    def matches(statement: dict[str, Any]) -> bool:
        actions = _as_list(statement.get("Action", []))
        resources = _as_list(statement.get("Resource", []))
        return any(_pattern(a.lower()).fullmatch(action.lower()) for a in actions) and any(
            _pattern(str(r)).fullmatch(resource) for r in resources
        )

    if any(st["Effect"] == "Deny" and matches(st) for st in statements):
        return False
    return any(st["Effect"] == "Allow" and matches(st) for st in statements)


# -- the calls a handler makes ----------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    service: str  # the signing name, which is the IAM service prefix (stepfunctions signs as "states")
    operation: str
    params: dict[str, Any]


class CallRecorder:
    """Every botocore API call made while `recording()` is active, from any client and any thread
    (clients made at a handler's import, paginators, clients of other botocore models)."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._active = False
        self._lock = threading.Lock()

    def install(self, monkeypatch: Any) -> None:
        original = botocore.client.BaseClient._make_api_call
        recorder = self

        def _make_api_call(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
            if recorder._active:
                call = Call(client.meta.service_model.signing_name, operation_name, dict(api_params))
                with recorder._lock:
                    recorder.calls.append(call)
            return original(client, operation_name, api_params)

        monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", _make_api_call)

    @contextmanager
    def recording(self) -> Iterator[None]:
        self._active = True
        try:
            yield
        finally:
            self._active = False


def _batch_arn(kind: str, name_or_arn: str) -> str:
    if name_or_arn.startswith("arn:"):
        return name_or_arn
    return f"arn:{PARTITION}:batch:{REGION}:{DUMMY_ACCOUNT}:{kind}/{name_or_arn}"


def _table_arn(table: str, index: str | None = None) -> str:
    arn = f"arn:{PARTITION}:dynamodb:{REGION}:{DUMMY_ACCOUNT}:table/{table}"
    return f"{arn}/index/{index}" if index else arn


# Actions without resource-level permissions: IAM authorises them on "*" only.
NO_RESOURCE_LEVEL = {
    "batch:DescribeJobs", "batch:DescribeJobDefinitions", "batch:DescribeJobQueues",
    "batch:DescribeComputeEnvironments", "batch:ListJobs",
}  # fmt: skip


def needs(call: Call) -> list[tuple[str, str]]:
    """(IAM action, resource ARN) pairs that authorise the call. A call not mapped here fails: map it."""
    action = f"{call.service}:{call.operation}"
    p = call.params
    if action in NO_RESOURCE_LEVEL:
        return [(action, "*")]
    if call.service == "dynamodb":
        if call.operation in ("BatchGetItem", "BatchWriteItem"):
            return [(action, _table_arn(table)) for table in p["RequestItems"]]
        return [(action, _table_arn(p["TableName"], p.get("IndexName")))]
    if action in ("batch:TerminateJob", "batch:TerminateJobs"):
        # TerminateJobs has no IAM action of its own: TerminateJob on each job authorises it.
        ids = p["jobs"] if call.operation == "TerminateJobs" else [p["jobId"]]
        return [("batch:TerminateJob", _batch_arn("job", job_id)) for job_id in ids]
    if action == "batch:SubmitJob":
        pairs = [
            (action, _batch_arn("job-queue", p["jobQueue"])),
            (action, _batch_arn("job-definition", p["jobDefinition"])),
        ]
        if p.get("tags"):  # tagging the job it creates
            pairs.append(("batch:TagResource", _batch_arn("job", "new-job")))
        return pairs
    if action == "batch:RegisterJobDefinition":
        arn = _batch_arn("job-definition", p["jobDefinitionName"])
        return [(action, arn)] + ([("batch:TagResource", arn)] if p.get("tags") else [])
    if action == "s3:GetObject":
        arn = f"arn:{PARTITION}:s3:::{p['Bucket']}/{p['Key']}"
        return [("s3:GetObjectVersion" if p.get("VersionId") else action, arn)]
    if action == "states:StartExecution":
        return [(action, p["stateMachineArn"])]
    if action == "events:PutEvents":
        buses = {entry.get("EventBusName", "default") for entry in p["Entries"]}
        return [(action, f"arn:{PARTITION}:events:{REGION}:{DUMMY_ACCOUNT}:event-bus/{bus}") for bus in buses]
    raise AssertionError(
        f"no IAM mapping for {action} ({json.dumps(p, default=str)[:200]}): add it to needs()"
    )


def platform_needs(stack: Stack, function: str) -> list[tuple[str, str]]:
    """What Lambda itself does with the function's role: write its logs, poll its SQS event sources,
    send failed async invocations to its dead-letter queue."""
    resources = stack.template["Resources"]
    props = resources[function]["Properties"]
    log_group = stack.physical_name(props["LoggingConfig"]["LogGroup"]["Ref"])
    stream = f"arn:{PARTITION}:logs:{REGION}:{DUMMY_ACCOUNT}:log-group:{log_group}:log-stream:2026/01/01/x"
    pairs = [("logs:CreateLogStream", stream), ("logs:PutLogEvents", stream)]
    for res in resources.values():
        if res["Type"] == "AWS::Lambda::EventSourceMapping" and res["Properties"]["FunctionName"] == {
            "Ref": function
        }:
            queue = stack.resolve(res["Properties"]["EventSourceArn"])
            pairs += [
                (a, queue) for a in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
            ]
    if "DeadLetterConfig" in props:
        pairs.append(("sqs:SendMessage", stack.resolve(props["DeadLetterConfig"]["TargetArn"])))
    return pairs
