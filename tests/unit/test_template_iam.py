"""template.yaml's IAM: least privilege per function, the stack's tag on every job it may stop, its own
queues and log groups only."""

from __future__ import annotations

from typing import Any

import pytest

from localcloud.sam_template import load_template
from sls_contract import tags
from sls_contract.submitter import CLAIM_LEASE_SECONDS
from tests.support.cloud import function_environment, parameter_default, properties, resource
from tests.support.handlers import REPO_ROOT
from tests.support.template import (
    ALL_FUNCTIONS,
    FUNCTIONS,
    QUEUES_OF_FUNCTION,
    as_list,
    branches,
    policy_statements,
)

# --- IAM ---


def test_no_policy_grants_a_wildcard_action(template: dict[str, Any]) -> None:
    for role, statement in policy_statements(template):
        for action in as_list(statement["Action"]):
            assert action != "*" and not action.endswith(":*"), (role, statement.get("Sid"))


def test_submit_job_is_never_allowed_on_every_resource(template: dict[str, Any]) -> None:
    submit_statements = [
        statement
        for _role, statement in policy_statements(template)
        if "batch:SubmitJob" in as_list(statement["Action"])
    ]

    assert submit_statements
    for statement in submit_statements:
        for resources in branches(statement["Resource"]):
            assert "*" not in as_list(resources), statement.get("Sid")


# The state machine's execution logging: CloudWatch Logs' log delivery API (Step Functions developer
# guide, "IAM policies for logging to CloudWatch Logs"); none of these writes a log event itself.
LOG_DELIVERY_ACTIONS = {
    "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}  # fmt: skip


def test_only_actions_without_resource_level_permissions_use_a_star_resource(
    template: dict[str, Any],
) -> None:
    star = sorted(
        action
        for _role, statement in policy_statements(template)
        if "*" in as_list(statement["Resource"])
        for action in as_list(statement["Action"])
    )

    # None supports resource-level permissions; DescribeJobs is the state machine's .sync watch.
    assert sorted(set(star)) == sorted({
        "batch:DescribeComputeEnvironments", "batch:DescribeJobDefinitions", "batch:DescribeJobQueues",
        "batch:DescribeJobs", "batch:ListJobs", *LOG_DELIVERY_ACTIONS,
    })  # fmt: skip


def _statements_with(template: dict[str, Any], action: str) -> list[tuple[str, dict[str, Any]]]:
    return [(role, st) for role, st in policy_statements(template) if action in as_list(st["Action"])]


def _on_jobs(statement: dict[str, Any]) -> bool:
    """Does the statement name Batch job resources (arn:...:job/...)?"""
    return any(":job/" in str(resources) for resources in branches(statement["Resource"]))


def test_terminate_job_is_allowed_only_on_the_stacks_tagged_jobs(template: dict[str, Any]) -> None:
    statements = _statements_with(template, "batch:TerminateJob")

    # submit (duplicates, cancels), run lifecycle (clean-up), state machine (stops its coordinator)
    assert len({role for role, _ in statements}) == 3
    for role, statement in statements:
        assert statement["Condition"] == {
            "StringEquals": {f"aws:ResourceTag/{tags.STACK_TAG}": {"Ref": "AWS::StackName"}}
        }, (role, statement.get("Sid"))


@pytest.mark.parametrize("action", ["batch:SubmitJob", "batch:TagResource"])
def test_jobs_are_created_and_tagged_only_with_the_stacks_tag(template: dict[str, Any], action: str) -> None:
    statements = [
        (role, st)
        for role, st in _statements_with(template, action)
        if action == "batch:SubmitJob" or _on_jobs(st)
    ]

    assert statements
    for role, statement in statements:
        assert statement["Condition"] == {
            "StringEquals": {f"aws:RequestTag/{tags.STACK_TAG}": {"Ref": "AWS::StackName"}}
        }, (role, statement.get("Sid"))


def test_tag_resource_without_the_tag_condition_is_only_on_derived_job_definitions(
    template: dict[str, Any],
) -> None:
    for _role, statement in _statements_with(template, "batch:TagResource"):
        if "Condition" not in statement:
            assert statement["Resource"] == {
                "Fn::Sub": "arn:${AWS::Partition}:batch:${AWS::Region}:${AWS::AccountId}"
                ":job-definition/${AWS::StackName}-derived-*"
            }


def test_every_function_knows_its_stack_name_for_the_tag(template: dict[str, Any]) -> None:
    for function in ALL_FUNCTIONS:
        assert function_environment(template, function)["STACK_NAME"] == {"Ref": "AWS::StackName"}


def test_no_full_access_managed_policies(template: dict[str, Any]) -> None:
    for res in template["Resources"].values():
        if res["Type"] == "AWS::IAM::Role":
            assert not [arn for arn in res["Properties"].get("ManagedPolicyArns", []) if "FullAccess" in arn]


@pytest.mark.parametrize(
    ("function", "needed"),
    [
        (
            "SubmitFunction",
            {"dynamodb:UpdateItem", "dynamodb:BatchGetItem", "batch:SubmitJob", "batch:TerminateJob"}
            | {"batch:DescribeJobDefinitions", "batch:RegisterJobDefinition", "batch:TagResource"}
            | {"batch:DescribeJobQueues", "batch:DescribeComputeEnvironments", "batch:ListJobs"},
        ),
        ("RecordFunction", {"dynamodb:UpdateItem"}),
    ],
)
def test_each_function_may_do_what_its_code_does(
    template: dict[str, Any], function: str, needed: set[str]
) -> None:
    role = resource(template, function)["Properties"]["Role"]["Fn::GetAtt"][0]
    granted = {
        action
        for role_id, statement in policy_statements(template)
        if role_id == role and statement["Effect"] == "Allow"
        for action in as_list(statement["Action"])
    }

    assert needed <= granted


def test_the_submit_lease_outlives_an_invocation_and_expires_before_a_redelivery(
    template: dict[str, Any],
) -> None:
    timeout = properties(template, "SubmitFunction")["Timeout"]
    visibility = properties(template, "JobsQueue")["VisibilityTimeout"]

    assert timeout < CLAIM_LEASE_SECONDS < visibility


def test_the_example_batch_infrastructure_would_work_on_aws() -> None:
    """examples/batch-infra.yaml: cfn-lint clean, and its job definition's platform is its environment's."""
    path = REPO_ROOT / "examples" / "batch-infra.yaml"
    from cfnlint.api import lint_file

    errors = [f"{m.rule.id} {m.message}" for m in lint_file(path, {"regions": ["us-east-1"]})]
    assert errors == []
    resources = load_template(path)["Resources"]
    environments = [r for r in resources.values() if r["Type"] == "AWS::Batch::ComputeEnvironment"]
    definitions = [r for r in resources.values() if r["Type"] == "AWS::Batch::JobDefinition"]
    platform = {"EC2": "EC2", "SPOT": "EC2", "FARGATE": "FARGATE", "FARGATE_SPOT": "FARGATE"}
    assert {platform[env["Properties"]["ComputeResources"]["Type"]] for env in environments} == {
        p for d in definitions for p in d["Properties"].get("PlatformCapabilities", ["EC2"])
    }


# --- SQS event sources: the stack's queues only ---


def test_no_role_has_the_account_wide_sqs_execution_policy(template: dict[str, Any]) -> None:
    managed = [
        arn
        for res in template["Resources"].values()
        if res["Type"] == "AWS::IAM::Role"
        for arn in res["Properties"].get("ManagedPolicyArns", [])
    ]

    assert managed and not [arn for arn in managed if "AWSLambdaSQSQueueExecutionRole" in str(arn)]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_an_sqs_function_reads_and_deletes_only_its_own_queue(
    template: dict[str, Any], function: str
) -> None:
    role = resource(template, function)["Properties"]["Role"]["Fn::GetAtt"][0]
    receive = [
        statement
        for role_id, statement in policy_statements(template)
        if role_id == role and {"sqs:ReceiveMessage", "sqs:DeleteMessage"} & set(as_list(statement["Action"]))
    ]

    assert len(receive) == 1
    assert as_list(receive[0]["Resource"]) == [
        {"Fn::GetAtt": [queue, "Arn"]} for queue in QUEUES_OF_FUNCTION[function]
    ]
    assert set(as_list(receive[0]["Action"])) == {
        "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
    }  # fmt: skip


def test_no_statement_allows_sqs_or_logs_on_every_resource(template: dict[str, Any]) -> None:
    for role, statement in policy_statements(template):
        actions = set(as_list(statement["Action"]))
        if actions <= LOG_DELIVERY_ACTIONS and role == "CoordinatorStateMachineRole":
            continue  # execution logging: log deliveries, not log events (see LOG_DELIVERY_ACTIONS)
        if any(action.startswith(("sqs:", "logs:")) for action in actions):
            assert "*" not in as_list(statement["Resource"]), (role, statement.get("Sid"))


# --- logs ---


def test_every_function_logs_to_a_stack_log_group_with_retention(template: dict[str, Any]) -> None:
    functions = [k for k, res in template["Resources"].items() if res["Type"] == "AWS::Lambda::Function"]

    assert sorted(functions) == sorted(ALL_FUNCTIONS)
    for function in functions:
        group = properties(template, function)["LoggingConfig"]["LogGroup"]["Ref"]
        assert resource(template, group)["Type"] == "AWS::Logs::LogGroup"
        assert properties(template, group)["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert parameter_default(template, {"Ref": "LogRetentionDays"}) == 30


def test_no_log_group_keeps_logs_forever(template: dict[str, Any]) -> None:
    groups = [res for res in template["Resources"].values() if res["Type"] == "AWS::Logs::LogGroup"]

    assert len(groups) == len(ALL_FUNCTIONS) + 1  # and the coordinator machine's
    for group in groups:
        assert "RetentionInDays" in group["Properties"]


@pytest.mark.parametrize("function", ALL_FUNCTIONS)
def test_an_explicit_role_writes_only_to_its_functions_log_group(
    template: dict[str, Any], function: str
) -> None:
    role = resource(template, function)["Properties"]["Role"]["Fn::GetAtt"][0]
    group = properties(template, function)["LoggingConfig"]["LogGroup"]["Ref"]
    logs = [
        statement
        for role_id, statement in policy_statements(template)
        if role_id == role and any(a.startswith("logs:") for a in as_list(statement["Action"]))
    ]

    assert [(sorted(as_list(st["Action"])), st["Resource"]) for st in logs] == [
        (["logs:CreateLogStream", "logs:PutLogEvents"], {"Fn::GetAtt": [group, "Arn"]})
    ]


# --- explicit roles ---


@pytest.mark.parametrize("function", ALL_FUNCTIONS)
def test_every_function_has_an_explicit_role_without_managed_policies(function: str) -> None:
    """Not one SAM generates: those carry AWSLambdaBasicExecutionRole (logs on every log group) or, for
    SQS sources, AWSLambdaSQSQueueExecutionRole (every queue of the account)."""
    source = load_template(REPO_ROOT / "template.yaml")["Resources"]
    role = source[function]["Properties"].get("Role")

    assert role == {"Fn::GetAtt": [f"{function}Role", "Arn"]}
    assert source[f"{function}Role"]["Type"] == "AWS::IAM::Role"
    assert "ManagedPolicyArns" not in source[f"{function}Role"]["Properties"]
    assert "Policies" not in source[function]["Properties"]  # SAM ignores them beside an explicit Role
