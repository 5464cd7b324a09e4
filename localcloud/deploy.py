"""Deploy template.yaml itself into moto: translate the SAM template, create it as a stack.

Nothing here lists the stack's resources: they all come from template.yaml, so the local cloud cannot
drift from what `sam deploy` creates. The user-owned Batch side comes from examples/batch-infra.yaml.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.check_template import load_template, translate_template

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
    outputs = _create_stack(cfn, stack_name, json.dumps(translated), values)
    return Deployment(stack_name, outputs, infra, _function_code_dirs(stack_name, cfn))
