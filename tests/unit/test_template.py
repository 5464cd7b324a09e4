"""template.yaml (translated by SAM) agrees with the contract package: names, settings, limits, queues,
buckets."""

from __future__ import annotations

import json
import re
from typing import Any

import boto3
import pytest

from sls_contract import events, job_record, run_record, stack_outputs
from sls_contract.settings import FunctionSettings
from sls_contract.status import TERMINAL, JobStatus
from tests.support.cloud import function_environment, parameter_default, properties, resource
from tests.support.events import put_events_entry, state_change
from tests.support.handlers import REPO_ROOT
from tests.support.template import (
    ALL_FUNCTIONS,
    FUNCTIONS,
    QUEUES_OF_FUNCTION,
)

# --- the jobs table ---


def test_jobs_table_keys_are_the_contracts(template: dict[str, Any]) -> None:
    props = properties(template, "JobsTable")

    assert props["KeySchema"] == [
        {"AttributeName": job_record.PARTITION_KEY, "KeyType": "HASH"},
        {"AttributeName": job_record.SORT_KEY, "KeyType": "RANGE"},
    ]
    assert props["GlobalSecondaryIndexes"] == [
        {
            "IndexName": job_record.UPDATES_INDEX,
            "KeySchema": [
                {"AttributeName": job_record.PARTITION_KEY, "KeyType": "HASH"},
                {"AttributeName": job_record.UPDATED_AT, "KeyType": "RANGE"},
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
            "IndexName": job_record.LIVE_INDEX,
            "KeySchema": [
                {"AttributeName": job_record.LIVE_SHARD, "KeyType": "HASH"},
                {"AttributeName": job_record.UPDATED_AT, "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["batch_job_id", "status"]},
        },
    ]
    names = (
        job_record.PARTITION_KEY,
        job_record.SORT_KEY,
        job_record.UPDATED_AT,
        run_record.RUN_KIND_ATTRIBUTE,
        "created_at",
        job_record.LIVE_SHARD,
    )
    assert sorted(props["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == [
        {"AttributeName": name, "AttributeType": "S"} for name in sorted(names)
    ]
    assert "created_at" in run_record.RunRecord.model_fields
    assert props["TimeToLiveSpecification"] == {"AttributeName": job_record.EXPIRES_AT, "Enabled": True}
    assert {job_record.UPDATED_AT, job_record.EXPIRES_AT} <= job_record.FIELDS


def test_jobs_table_has_encryption_backups_and_ttl(template: dict[str, Any]) -> None:
    props = properties(template, "JobsTable")

    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["TimeToLiveSpecification"]["Enabled"] is True
    assert props["BillingMode"] == "PAY_PER_REQUEST"


def test_the_moto_table_is_built_from_the_template(dynamodb: Any, jobs_table: str) -> None:
    table = dynamodb.describe_table(TableName=jobs_table)["Table"]

    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == [
        job_record.UPDATES_INDEX,
        run_record.RUNS_INDEX,
        job_record.LIVE_INDEX,
    ]
    ttl = dynamodb.describe_time_to_live(TableName=jobs_table)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", job_record.EXPIRES_AT)
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
    for queue in QUEUES_OF_FUNCTION[function]:
        assert properties(template, queue)["VisibilityTimeout"] >= 6 * timeout


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

    assert [m["EventSourceArn"] for m in mappings] == [
        {"Fn::GetAtt": [queue, "Arn"]} for queue in QUEUES_OF_FUNCTION[function]
    ]
    for mapping in mappings:
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        # bounded scaling, set by a stack parameter (the local cloud runs that many workers, up to its cap)
        limit = mapping["ScalingConfig"]["MaximumConcurrency"]
        assert set(limit) == {"Ref"} and 2 <= parameter_default(template, limit) <= 1000


def test_the_record_functions_two_queues_share_settings_and_dead_letter_queue(
    template: dict[str, Any],
) -> None:
    state, terminal = (properties(template, q) for q in QUEUES_OF_FUNCTION["RecordFunction"])

    assert state == terminal
    assert terminal["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["StateEventsDeadLetterQueue", "Arn"]
    }


STATE_RULES = {"BatchStateChangeRule": "StateEventsQueue", "BatchTerminalStateRule": "TerminalEventsQueue"}


@pytest.mark.parametrize(("rule_id", "queue"), STATE_RULES.items())
def test_the_state_change_rules_match_the_contracts_event(
    template: dict[str, Any], rule_id: str, queue: str
) -> None:
    rule = properties(template, rule_id)

    assert rule["EventPattern"]["source"] == [events.SOURCE]
    assert rule["EventPattern"]["detail-type"] == [events.DETAIL_TYPE]
    assert rule["Targets"] == [{"Id": queue, "Arn": {"Fn::GetAtt": [queue, "Arn"]}}]
    assert (
        rule["EventPattern"]["detail"]["jobQueue"]
        == (properties(template, "BatchStateChangeRule")["EventPattern"]["detail"]["jobQueue"])
    )


def test_each_state_events_queue_takes_messages_only_from_its_own_rule(template: dict[str, Any]) -> None:
    policy = properties(template, "StateEventsQueuePolicy")
    statements = policy["PolicyDocument"]["Statement"]

    assert policy["Queues"] == [{"Ref": queue} for queue in STATE_RULES.values()]
    assert {
        (s["Resource"]["Fn::GetAtt"][0], s["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::GetAtt"][0])
        for s in statements
    } == {(queue, rule) for rule, queue in STATE_RULES.items()}
    for statement in statements:
        assert statement["Effect"] == "Allow" and statement["Action"] == "sqs:SendMessage"
        assert statement["Principal"] == {"Service": "events.amazonaws.com"}


def test_every_state_change_reaches_one_queue_and_a_jobs_end_its_own(
    template: dict[str, Any], aws: None
) -> None:
    """The two rules' patterns, as written in the template, through EventBridge's matching (moto's):
    every status Batch emits lands on exactly one queue, and SUCCEEDED/FAILED on the terminal one."""
    job_queue = "arn:aws:batch:us-east-1:123456789012:job-queue/q"
    eventbridge, sqs = boto3.client("events"), boto3.client("sqs")
    urls = {}
    for rule_id, queue in STATE_RULES.items():
        url = urls[queue] = sqs.create_queue(QueueName=queue)["QueueUrl"]
        pattern = properties(template, rule_id)["EventPattern"]
        pattern = {**pattern, "detail": {**pattern["detail"], "jobQueue": [job_queue]}}
        eventbridge.put_rule(Name=rule_id, EventPattern=json.dumps(pattern))
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        eventbridge.put_targets(Rule=rule_id, Targets=[{"Id": queue, "Arn": arn}])
    batch_statuses = [s for s in JobStatus if s is not JobStatus.SUBMITTING]
    for status in batch_statuses:
        event = state_change("batch_job_succeeded", "run", f"job-{status}", status=status, jobQueue=job_queue)
        assert eventbridge.put_events(Entries=[put_events_entry(event)])["FailedEntryCount"] == 0

    def arrived(queue: str) -> list[str]:
        messages = sqs.receive_message(QueueUrl=urls[queue], MaxNumberOfMessages=10)["Messages"]
        return sorted(json.loads(m["Body"])["detail"]["status"] for m in messages)

    assert arrived("TerminalEventsQueue") == sorted(TERMINAL)
    assert arrived("StateEventsQueue") == sorted(s for s in batch_statuses if s not in TERMINAL)


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
