"""docs/deploy-from-empty-account.md agrees with the templates, the Makefile and the plugin it drives."""

from __future__ import annotations

import re
import shlex
import tomllib
from dataclasses import fields
from typing import Any

import boto3
import pytest

from localcloud.sam_template import load_template
from sls_contract.run_request import parse_run_request
from snakemake_executor_plugin_aws_basic_batch_sls import ExecutorSettings
from tests.support.handlers import REPO_ROOT

GUIDE = (REPO_ROOT / "docs" / "deploy-from-empty-account.md").read_text(encoding="utf-8")
INFRA_PATH = REPO_ROOT / "examples" / "batch-infra.yaml"
INFRA = load_template(INFRA_PATH)
CONTROL_PLANE = load_template(REPO_ROOT / "template.yaml")


def commands() -> list[str]:
    """The guide's shell commands, continuation lines joined."""
    blocks = re.findall(r"```bash\n(.*?)\n```", GUIDE, re.DOTALL)
    return [line for block in blocks for line in block.replace("\\\n", " ").splitlines()]


def overrides(command_start: str) -> set[str]:
    [command] = [c for c in commands() if c.lstrip().startswith(command_start)]
    words = shlex.split(command, comments=True)
    at = words.index("--parameter-overrides")
    return {word.split("=", 1)[0] for word in words[at + 1 :] if "=" in word}


def test_the_batch_side_gets_only_parameters_it_has() -> None:
    given = overrides("aws cloudformation deploy")

    assert given == {"MaxvCpus", "Image", "StorageBucket", "CoordinatorImage", "ControlPlaneStackName"}
    assert given <= set(INFRA["Parameters"])


def test_the_control_plane_gets_its_required_parameters_and_only_real_ones() -> None:
    given = overrides("sam deploy --stack-name")
    guided = set(re.findall(r"^\| `(\w+)` \|", GUIDE, re.MULTILINE))
    required = {name for name, p in CONTROL_PLANE["Parameters"].items() if "Default" not in p}

    assert required <= given
    assert given | guided | {"AlarmTopicArn"} <= set(CONTROL_PLANE["Parameters"])


def test_every_output_the_guide_reads_exists() -> None:
    reads = re.findall(r'out "?\$(BATCH_STACK|STACK)"? (\w+)', GUIDE)

    assert reads
    for stack, output in reads:
        template = INFRA if stack == "BATCH_STACK" else CONTROL_PLANE
        assert output in template["Outputs"], (stack, output)


def test_the_image_names_and_tag_are_the_makefiles() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    version = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]

    for image in ("job", "coordinator"):
        assert f"{image.upper()}_IMAGE ?= aws-basic-batch-sls-{image}:$(IMAGE_TAG)" in makefile
    assert "for image in job coordinator; do" in GUIDE
    assert f"TAG={version} " in GUIDE
    assert "\nimages: " in makefile


def test_the_run_request_is_valid() -> None:
    [body] = re.findall(r"cat > \.\./first-upload\.yaml <<EOF\n(.*?)\nEOF", GUIDE, re.DOTALL)

    request = parse_run_request(body.replace("$BUCKET", "my-bucket"), "first-upload.yaml")

    assert request.run_id == "first-upload"
    assert request.workflow_source == "s3://my-bucket/workflows/hello.tar.gz"


def test_every_plugin_flag_is_a_setting() -> None:
    flags = set(re.findall(r"--aws-basic-batch-sls-([a-z-]+)", GUIDE))
    settings = {f.name.replace("_", "-") for f in fields(ExecutorSettings)}

    assert flags and flags <= settings


@pytest.mark.parametrize(
    ("pattern", "logical_id"),
    [
        ("${ControlPlaneStackName}-JobsQueue-*", "JobsQueue"),
        ("${ControlPlaneStackName}-JobsTable-*", "JobsTable"),
        ("${ControlPlaneStackName}-ReconcileFunction-*", "ReconcileFunction"),
        ("${ControlPlaneStackName}-runsbucket-*", "RunsBucket"),
    ],
)
def test_the_coordinator_role_names_the_control_planes_generated_names(pattern: str, logical_id: str) -> None:
    # CloudFormation names an unnamed resource STACK-LogicalId-RANDOM (buckets in lower case).
    policy = str(INFRA["Resources"]["CoordinatorJobRole"]["Properties"]["Policies"])
    resource = CONTROL_PLANE["Resources"][logical_id]
    name_property = {"JobsQueue": "QueueName", "JobsTable": "TableName", "RunsBucket": "BucketName"}

    assert pattern in policy
    assert name_property.get(logical_id, "FunctionName") not in resource.get("Properties", {})


def test_the_batch_side_deploys_with_everything_the_guide_sets(aws: None) -> None:
    cfn = boto3.client("cloudformation")
    parameters = {
        "MaxvCpus": "16",
        "Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/aws-basic-batch-sls-job:0.1.0",
        "StorageBucket": "snakemake-storage-123456789012-us-east-1",
        "CoordinatorImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/aws-basic-batch-sls-coordinator:0.1.0",
        "ControlPlaneStackName": "aws-basic-batch-sls",
    }

    cfn.create_stack(
        StackName="snakemake-batch",
        TemplateBody=INFRA_PATH.read_text(encoding="utf-8"),
        Capabilities=["CAPABILITY_IAM"],
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
    )

    stack: dict[str, Any] = cfn.describe_stacks(StackName="snakemake-batch")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {o["OutputKey"] for o in stack["Outputs"]}
    assert {"JobQueueArn", "JobDefinitionArn", "CoordinatorJobDefinitionArn", "JobRoleArn"} <= outputs
    definitions = boto3.client("batch").describe_job_definitions()["jobDefinitions"]
    assert sorted(d["containerProperties"]["image"] for d in definitions) == sorted(
        [parameters["Image"], parameters["CoordinatorImage"]]
    )


def _actions_on_jobs_table(role: str) -> set[str]:
    """DynamoDB actions the example's policies give `role` on the control plane's jobs table."""
    actions: set[str] = set()
    for resource in INFRA["Resources"].values():
        props = resource.get("Properties", {})
        inline = props.get("Policies", []) if resource["Type"] == "AWS::IAM::Role" else [props]
        roles = props.get("Roles", [])
        if resource["Type"] == "AWS::IAM::Role" and resource is not INFRA["Resources"][role]:
            continue
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role} not in roles:
            continue
        for policy in inline:
            for statement in policy.get("PolicyDocument", {}).get("Statement", []):
                targets = (
                    statement["Resource"]
                    if isinstance(statement["Resource"], list)
                    else [statement["Resource"]]
                )
                if any("JobsTable" in str(target) for target in targets):
                    listed = statement["Action"]
                    actions.update([listed] if isinstance(listed, str) else listed)
    return actions


def test_the_example_roles_allow_what_array_jobs_need() -> None:
    # README "Array jobs": each child reads its command (GetItem); the plugin writes the children.
    assert "dynamodb:GetItem" in _actions_on_jobs_table("JobRole")
    assert "dynamodb:BatchWriteItem" in _actions_on_jobs_table("CoordinatorJobRole")
