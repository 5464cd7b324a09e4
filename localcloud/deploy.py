"""Deploy template.yaml itself into moto: translate the SAM template, create it as a stack.

Nothing here lists the stack's resources: they all come from template.yaml, so the local cloud cannot
drift from what `sam deploy` creates. The user-owned Batch side comes from examples/batch-infra.yaml.
"""

from __future__ import annotations

import io
import json
import logging
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .sam_template import load_template, translate_template

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = REPO_ROOT / "template.yaml"
INFRA_TEMPLATE = REPO_ROOT / "examples" / "batch-infra.yaml"
ARTIFACT_BUCKET = "localcloud-artifacts"


@dataclass(frozen=True)
class Deployment:
    stack_name: str
    outputs: dict[str, str]
    infra_outputs: dict[str, str]
    # Lambda function name -> directory of its handler code (the SAM CodeUri).
    function_code: dict[str, Path]


def _create_stack(cfn: Any, name: str, body: str, parameters: dict[str, str]) -> dict[str, str]:
    cfn.create_stack(
        StackName=name,
        TemplateBody=body,
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
    )
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise RuntimeError(f"stack {name}: {stack['StackStatus']} {stack.get('StackStatusReason', '')}")
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def _upload_placeholder_code(s3: Any, translated: dict[str, Any]) -> None:
    """moto's Lambda wants code in S3; the local Lambda runtime runs the source tree instead."""
    s3.create_bucket(Bucket=ARTIFACT_BUCKET)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README", "local cloud: code runs from the source tree")
    for resource in translated["Resources"].values():
        props = resource.get("Properties", {})
        for location in (props.get("Code"), props.get("Content")):
            if isinstance(location, dict) and "S3Bucket" in location:
                location["S3Bucket"] = ARTIFACT_BUCKET
                s3.put_object(Bucket=ARTIFACT_BUCKET, Key=location["S3Key"], Body=buffer.getvalue())


def _function_code_dirs(stack_name: str, cfn: Any) -> dict[str, Path]:
    """Physical function name -> its CodeUri directory, from the SAM template's own declarations."""
    sam = load_template(TEMPLATE)
    code_uri = {
        logical: REPO_ROOT / resource["Properties"]["CodeUri"]
        for logical, resource in sam["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    resources = cfn.describe_stack_resources(StackName=stack_name)["StackResources"]
    return {
        r["PhysicalResourceId"]: code_uri[r["LogicalResourceId"]]
        for r in resources
        if r.get("ResourceType") == "AWS::Lambda::Function" and r["LogicalResourceId"] in code_uri
    }


_CONTEXT_OBJECT_TOKEN = "__localcloud_context_object__"


def _apply_definition_substitutions(translated: dict[str, Any]) -> None:
    """CloudFormation substitutes DefinitionSubstitutions into DefinitionString; moto ignores them.
    Express the same thing as an Fn::Sub, which moto's CloudFormation does resolve."""
    for resource in translated["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] != "AWS::StepFunctions::StateMachine" or "DefinitionSubstitutions" not in props:
            continue
        definition = props["DefinitionString"]
        if isinstance(definition, dict) and "Fn::Join" in definition:
            separator, parts = definition["Fn::Join"]
            definition = separator.join(parts)
        # moto's Fn::Sub is string.Template, which turns the context object's "$$" into "$".
        definition = definition.replace("$$", _CONTEXT_OBJECT_TOKEN)
        props["DefinitionString"] = {"Fn::Sub": [definition, props.pop("DefinitionSubstitutions")]}


def _apply_bucket_notifications(session: Any, translated: dict[str, Any], cfn: Any, stack_name: str) -> None:
    """moto's CloudFormation skips a bucket's EventBridge notification setting: apply what the
    template declares (S3 -> EventBridge then works in moto)."""
    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.describe_stack_resources(StackName=stack_name)["StackResources"]
        if "LogicalResourceId" in r and "PhysicalResourceId" in r  # moto lists skipped ones without ids
    }
    s3 = session.client("s3")
    for logical, resource in translated["Resources"].items():
        notification = resource.get("Properties", {}).get("NotificationConfiguration", {})
        if resource["Type"] == "AWS::S3::Bucket" and notification.get("EventBridgeConfiguration", {}).get(
            "EventBridgeEnabled"
        ):
            s3.put_bucket_notification_configuration(
                Bucket=physical[logical], NotificationConfiguration={"EventBridgeConfiguration": {}}
            )


def _register_state_machines_for_execution() -> None:
    """moto's CloudFormation creates state machines in its plain Step Functions backend, but with
    execute_state_machine on, the API (and executions) use its ASL-interpreting backend: make the
    stack's machines known there too."""
    from moto.stepfunctions.models import stepfunctions_backends
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    for account, regions in stepfunctions_backends.items():
        for region, backend in regions.items():
            executing = stepfunctions_parser_backends[account][region]
            known = {machine.arn for machine in executing.state_machines}
            for machine in backend.state_machines:
                machine.definition = machine.definition.replace(_CONTEXT_OBJECT_TOKEN, "$$")
                if machine.arn not in known:
                    executing.create_state_machine(machine.name, machine.definition, machine.roleArn)


# moto's CloudFormation cannot create AWS::SQS::QueuePolicy nor AWS::S3::BucketPolicy (resource
# policies moto would not enforce anyway): README ("The local cloud") says so once; it is not news on
# every start. Nor AWS::CloudWatch::Alarm: nothing here publishes the AWS/ metrics they watch
# (docs/operating.md; tests/unit/test_observability.py checks the alarms in the translated template).
_RESOURCE_POLICIES = ("AWS::SQS::QueuePolicy", "AWS::S3::BucketPolicy", "AWS::CloudWatch::Alarm")
for _policy in _RESOURCE_POLICIES:
    warnings.filterwarnings("ignore", message=f"Tried to parse {_policy}")
logging.getLogger("moto").addFilter(
    lambda record: not any(policy in record.getMessage() for policy in _RESOURCE_POLICIES)
)


def _layer_arns_fixed(session: Any, outputs: dict[str, str]) -> dict[str, str]:
    """moto's CloudFormation gives `Ref` of a LayerVersion as an object's repr: use the version's ARN."""
    broken = {
        name for name, value in outputs.items() if value.startswith("<moto.awslambda.models.LayerVersion")
    }
    if not broken:
        return outputs
    layers = session.client("lambda").list_layers()["Layers"]
    [arn] = [layer["LatestMatchingVersion"]["LayerVersionArn"] for layer in layers] or [None]
    return {**outputs, **dict.fromkeys(broken, arn)}


def deploy(
    session: Any, stack_name: str, max_vcpus: int, parameters: dict[str, str] | None = None
) -> Deployment:
    cfn = session.client("cloudformation")
    infra = _create_stack(
        cfn, f"{stack_name}-batch", INFRA_TEMPLATE.read_text(), {"MaxvCpus": str(max_vcpus)}
    )
    values = {
        "JobQueueArn": infra["JobQueueArn"],
        "JobDefinitionArn": infra["JobDefinitionArn"],
        **(parameters or {}),
    }
    translated = translate_template(TEMPLATE, parameter_values=values)
    _upload_placeholder_code(session.client("s3"), translated)
    _apply_definition_substitutions(translated)
    outputs = _layer_arns_fixed(session, _create_stack(cfn, stack_name, json.dumps(translated), values))
    _apply_bucket_notifications(session, translated, cfn, stack_name)
    _register_state_machines_for_execution()
    return Deployment(stack_name, outputs, infra, _function_code_dirs(stack_name, cfn))
