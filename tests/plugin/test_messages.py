"""What the user reads when a job fails; a group job's failure names the rule that failed."""

import time
from types import SimpleNamespace

import boto3
import pytest
from moto import mock_aws

from sls_contract.job_record import JobRecord
from snakemake_executor_plugin_aws_basic_batch_sls.messages import failed_rules, failure_message

PLANE = SimpleNamespace(endpoint_url="http://127.0.0.1:1", region="us-east-1")
GROUP = JobRecord(
    run_id="r",
    job_id="j",
    status="FAILED",
    rule="first,second",
    group="pipeline",
    job_name="snakejob-pipeline-1",
    batch_job_id="b-1",
    exit_code=1,
    log_stream="def/default/b-1",
)
LOG = [
    "Execute 2 jobs...",
    "Error in rule second:\n    message: None\n    jobid: 3",
    "Shutting down, this might take some time.",
]


@pytest.fixture
def logs(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client = boto3.client("logs", aws_access_key_id="x", aws_secret_access_key="x")
        client.create_log_group(logGroupName="/aws/batch/job")
        client.create_log_stream(logGroupName="/aws/batch/job", logStreamName=GROUP.log_stream)
        client.put_log_events(
            logGroupName="/aws/batch/job",
            logStreamName=GROUP.log_stream,
            logEvents=[{"timestamp": int(time.time() * 1000) + i, "message": m} for i, m in enumerate(LOG)],
        )
        yield client


def test_the_failed_rule_is_read_from_the_group_jobs_log(logs):
    assert failed_rules(logs, GROUP) == ["second"]
    message = failure_message(PLANE, GROUP, failed_rules(logs, GROUP))
    assert "group pipeline: rule second failed" in message


def test_without_a_readable_log_the_message_says_where_to_look(logs):
    missing = GROUP.model_copy(update={"log_stream": "no/such/stream"})
    assert failed_rules(logs, missing) == []
    assert "group pipeline: one of its rules (first,second) failed; its log says which" in failure_message(
        PLANE, missing, []
    )


def test_a_single_job_message_has_no_group_part():
    single = GROUP.model_copy(update={"group": None, "rule": "align"})
    message = failure_message(PLANE, single)
    assert message.startswith("AWS Batch job b-1 (snakejob-pipeline-1) FAILED; exit code 1; reason:")
    assert "; group " not in message
