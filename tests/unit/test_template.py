"""template.yaml (translated by SAM) agrees with the contract package: names, settings, limits, IAM."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from localcloud.sam_template import load_template
from sls_contract import events, record, run_record, stack_outputs, tags
from sls_contract.settings import FunctionSettings
from sls_contract.submitter import CLAIM_LEASE_SECONDS
from tests.support.cloud import function_environment, parameter_default, properties, resource
from tests.support.handlers import REPO_ROOT

FUNCTIONS = {"SubmitFunction": "submit_job", "RecordFunction": "record_state"}
QUEUE_OF_FUNCTION = {"SubmitFunction": "JobsQueue", "RecordFunction": "StateEventsQueue"}
ALL_FUNCTIONS = {
    **FUNCTIONS,
    "StartRunFunction": "start_run",
    "RunLifecycleFunction": "run_lifecycle",
    "ReconcileFunction": "reconcile",
}


def branches(value: Any) -> Iterator[Any]:
    """Every concrete value a template fragment can take (both sides of each Fn::If)."""
    if isinstance(value, dict) and set(value) == {"Fn::If"}:
        _condition, if_true, if_false = value["Fn::If"]
        yield from branches(if_true)
        yield from branches(if_false)
    elif isinstance(value, dict) and value == {"Ref": "AWS::NoValue"}:
        return
    else:
        yield value


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def policy_statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, res in template["Resources"].items():
        if res["Type"] != "AWS::IAM::Role":
            continue
        for policy in res["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                for concrete in branches(statement):
                    yield logical_id, concrete


# --- the jobs table ---


def test_jobs_table_keys_are_the_contracts(template: dict[str, Any]) -> None:
    props = properties(template, "JobsTable")

    assert props["KeySchema"] == [
        {"AttributeName": record.PARTITION_KEY, "KeyType": "HASH"},
        {"AttributeName": record.SORT_KEY, "KeyType": "RANGE"},
    ]
    assert props["GlobalSecondaryIndexes"] == [
        {
            "IndexName": record.UPDATES_INDEX,
            "KeySchema": [
                {"AttributeName": record.PARTITION_KEY, "KeyType": "HASH"},
                {"AttributeName": record.UPDATED_AT, "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        },
        {
            "IndexName": run_record.RUNS_INDEX,
            "KeySchema": [
                {"AttributeName": run_record.RUN_KIND_ATTRIBUTE, "KeyType": "HASH"},
                {"AttributeName": "created_at", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        },
        {
            "IndexName": record.LIVE_INDEX,
            "KeySchema": [
                {"AttributeName": record.LIVE_SHARD, "KeyType": "HASH"},
                {"AttributeName": record.UPDATED_AT, "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["batch_job_id", "status"]},
        },
    ]
    names = (
        record.PARTITION_KEY,
        record.SORT_KEY,
        record.UPDATED_AT,
        run_record.RUN_KIND_ATTRIBUTE,
        "created_at",
        record.LIVE_SHARD,
    )
    assert sorted(props["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == [
        {"AttributeName": name, "AttributeType": "S"} for name in sorted(names)
    ]
    assert "created_at" in run_record.RunRecord.model_fields
    assert props["TimeToLiveSpecification"] == {"AttributeName": record.EXPIRES_AT, "Enabled": True}
    assert {record.UPDATED_AT, record.EXPIRES_AT} <= record.FIELDS


def test_jobs_table_has_encryption_backups_and_ttl(template: dict[str, Any]) -> None:
    props = properties(template, "JobsTable")

    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["TimeToLiveSpecification"]["Enabled"] is True
    assert props["BillingMode"] == "PAY_PER_REQUEST"


def test_the_moto_table_is_built_from_the_template(dynamodb: Any, jobs_table: str) -> None:
    table = dynamodb.describe_table(TableName=jobs_table)["Table"]

    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == [
        record.UPDATES_INDEX,
        run_record.RUNS_INDEX,
        record.LIVE_INDEX,
    ]
    ttl = dynamodb.describe_time_to_live(TableName=jobs_table)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", record.EXPIRES_AT)
    backups = dynamodb.describe_continuous_backups(TableName=jobs_table)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


# --- outputs and settings ---


def test_outputs_contain_everything_clients_read(template: dict[str, Any]) -> None:
    missing = {*stack_outputs.CLIENT_OUTPUTS, *stack_outputs.RUN_OUTPUTS} - set(template["Outputs"])

    assert missing == set()


@pytest.mark.parametrize(("function", "directory"), ALL_FUNCTIONS.items())
def test_every_setting_a_function_reads_is_set_by_the_template(
    template: dict[str, Any], function: str, directory: str
) -> None:
    source = (REPO_ROOT / "functions" / directory / "app.py").read_text(encoding="utf-8")
    read = set(re.findall(r"\bsettings\.(\w+)", source)) & set(FunctionSettings.model_fields)
    required = {name for name, field in FunctionSettings.model_fields.items() if field.is_required()}
    environment = function_environment(template, function)

    assert read, f"{directory}/app.py reads no settings?"
    missing = sorted(name.upper() for name in read | required if name.upper() not in environment)
    assert missing == []
    for name in ("POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"):
        assert name in environment


def test_the_table_name_setting_is_the_stacks_table(template: dict[str, Any]) -> None:
    for function in ALL_FUNCTIONS:
        assert function_environment(template, function)["JOBS_TABLE_NAME"] == {"Ref": "JobsTable"}


# --- queues ---


@pytest.mark.parametrize("function", FUNCTIONS)
def test_queue_visibility_is_at_least_six_function_timeouts(template: dict[str, Any], function: str) -> None:
    timeout = properties(template, function)["Timeout"]
    visibility = properties(template, QUEUE_OF_FUNCTION[function])["VisibilityTimeout"]

    assert visibility >= 6 * timeout


def test_redrive_count_and_the_submit_functions_last_receive_are_one_parameter(
    template: dict[str, Any],
) -> None:
    redrive = properties(template, "JobsQueue")["RedrivePolicy"]
    environment = function_environment(template, "SubmitFunction")

    assert redrive["maxReceiveCount"] == {"Ref": "SubmitMaxReceiveCount"}
    assert environment["SUBMIT_MAX_RECEIVE_COUNT"] == {"Ref": "SubmitMaxReceiveCount"}
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["JobsDeadLetterQueue", "Arn"]}
    assert int(parameter_default(template, redrive["maxReceiveCount"])) == (
        FunctionSettings.model_fields["submit_max_receive_count"].default
    )


def test_the_moto_queue_carries_the_templates_redrive(jobs_queue: Any) -> None:
    attributes = boto3.client("sqs").get_queue_attributes(QueueUrl=jobs_queue.url, AttributeNames=["All"])
    assert attributes["Attributes"]["VisibilityTimeout"] == "180"
    assert jobs_queue.max_receive_count == 5


@pytest.mark.parametrize("function", FUNCTIONS)
def test_event_sources_report_partial_batch_failures(template: dict[str, Any], function: str) -> None:
    mappings = [
        res["Properties"]
        for res in template["Resources"].values()
        if res["Type"] == "AWS::Lambda::EventSourceMapping"
        and res["Properties"]["FunctionName"] == {"Ref": function}
    ]

    assert len(mappings) == 1
    assert mappings[0]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mappings[0]["EventSourceArn"] == {"Fn::GetAtt": [QUEUE_OF_FUNCTION[function], "Arn"]}
    # bounded scaling, set by a stack parameter (the local cloud runs that many workers, up to its cap)
    limit = mappings[0]["ScalingConfig"]["MaximumConcurrency"]
    assert set(limit) == {"Ref"} and 2 <= parameter_default(template, limit) <= 1000


def test_the_state_change_rule_matches_the_contracts_event(template: dict[str, Any]) -> None:
    rule = properties(template, "BatchStateChangeRule")

    assert rule["EventPattern"]["source"] == [events.SOURCE]
    assert rule["EventPattern"]["detail-type"] == [events.DETAIL_TYPE]
    assert rule["Targets"] == [{"Id": "StateEventsQueue", "Arn": {"Fn::GetAtt": ["StateEventsQueue", "Arn"]}}]


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

    assert [statement["Resource"] for statement in receive] == [
        {"Fn::GetAtt": [QUEUE_OF_FUNCTION[function], "Arn"]}
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


@pytest.mark.parametrize("function", FUNCTIONS)
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


# --- buckets ---


def _bucket_policy(template: dict[str, Any], bucket: str) -> dict[str, Any]:
    [policy] = [
        res["Properties"]["PolicyDocument"]
        for res in template["Resources"].values()
        if res["Type"] == "AWS::S3::BucketPolicy" and res["Properties"]["Bucket"] == {"Ref": bucket}
    ]
    return policy


def test_every_bucket_refuses_plain_http(template: dict[str, Any]) -> None:
    buckets = [k for k, res in template["Resources"].items() if res["Type"] == "AWS::S3::Bucket"]

    assert sorted(buckets) == ["AccessLogBucket", "RunsBucket"]
    for bucket in buckets:
        deny = [st for st in _bucket_policy(template, bucket)["Statement"] if st["Effect"] == "Deny"]
        assert deny == [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [{"Fn::GetAtt": [bucket, "Arn"]}, {"Fn::Sub": f"${{{bucket}.Arn}}/*"}],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ]


def test_every_bucket_is_encrypted_private_and_expires_what_it_keeps(template: dict[str, Any]) -> None:
    for bucket in ("RunsBucket", "AccessLogBucket"):
        props = properties(template, bucket)
        [encryption] = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
        assert all(props["PublicAccessBlockConfiguration"].values())
        [rule] = props["LifecycleConfiguration"]["Rules"]
        assert (
            rule["Status"] == "Enabled" and rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] >= 1
        )
    runs_rule = properties(template, "RunsBucket")["LifecycleConfiguration"]["Rules"][0]
    assert runs_rule["NoncurrentVersionExpiration"] == {
        "NoncurrentDays": {"Ref": "NoncurrentVersionRetentionDays"}
    }
    logs_rule = properties(template, "AccessLogBucket")["LifecycleConfiguration"]["Rules"][0]
    assert logs_rule["ExpirationInDays"] == {"Ref": "AccessLogRetentionDays"}


def test_the_runs_bucket_logs_access_to_the_log_bucket_which_only_s3_logging_writes(
    template: dict[str, Any],
) -> None:
    logging_config = properties(template, "RunsBucket")["LoggingConfiguration"]
    [allow] = [
        st for st in _bucket_policy(template, "AccessLogBucket")["Statement"] if st["Effect"] == "Allow"
    ]

    assert logging_config == {
        "DestinationBucketName": {"Ref": "AccessLogBucket"},
        "LogFilePrefix": "runs-bucket/",
    }
    assert allow["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert allow["Action"] == "s3:PutObject"
    assert allow["Resource"] == {"Fn::Sub": "${AccessLogBucket.Arn}/runs-bucket/*"}
    assert allow["Condition"]["ArnLike"] == {"aws:SourceArn": {"Fn::GetAtt": ["RunsBucket", "Arn"]}}


# --- checkov (make checkov scans the translated template) ---


def test_every_checkov_skip_says_why(template: dict[str, Any]) -> None:
    skips = [
        (logical_id, skip)
        for logical_id, res in template["Resources"].items()
        for skip in res.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]

    assert skips
    for logical_id, skip in skips:
        assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), logical_id
        assert len(skip.get("comment", "")) >= 40, (logical_id, skip["id"])


def test_checkov_never_skips_the_checks_this_stack_fixed(template: dict[str, Any]) -> None:
    skipped = {
        skip["id"]
        for res in template["Resources"].values()
        for skip in res.get("Metadata", {}).get("checkov", {}).get("skip", [])
    }

    # S3 logging, versioning and public access of the runs bucket; IAM "*" write actions
    runs_bucket = {
        s["id"]
        for s in resource(template, "RunsBucket").get("Metadata", {}).get("checkov", {}).get("skip", [])
    }
    assert runs_bucket == set()
    assert not skipped & {"CKV_AWS_111", "CKV_AWS_107", "CKV_AWS_108", "CKV_AWS_109", "CKV_AWS_110"}
