"""What the user reads when a job fails; a group job's failure names the rule that failed."""

import time
from types import SimpleNamespace

import boto3
import pytest
from moto import mock_aws

from sls_contract.job_record import JobRecord
from snakemake_executor_plugin_aws_basic_batch_sls.executor import FAILED_LOGS_READ, Executor
from snakemake_executor_plugin_aws_basic_batch_sls.messages import (
    failed_rules,
    failure_message,
    log_quote,
    log_tail,
)

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
    assert failed_rules(log_tail(logs, GROUP)) == ["second"]
    message = failure_message(PLANE, GROUP, failed_rules(log_tail(logs, GROUP)))
    assert "group pipeline: rule second failed" in message


def test_without_a_readable_log_the_message_says_where_to_look(logs):
    missing = GROUP.model_copy(update={"log_stream": "no/such/stream"})
    assert log_tail(logs, missing) == []
    assert failed_rules([]) == []
    assert "group pipeline: one of its rules (first,second) failed; its log says which" in failure_message(
        PLANE, missing, []
    )


def test_a_single_job_message_has_no_group_part():
    single = GROUP.model_copy(update={"group": None, "rule": "align"})
    message = failure_message(PLANE, single)
    assert message.startswith("AWS Batch job b-1 (snakejob-pipeline-1) FAILED; exit code 1; reason:")
    assert "; group " not in message


# A script rule's failure as its Batch job logs it (Snakemake 9.27.1, trimmed paths).
SCRIPT_FAILURE = """Execute 1 jobs...
[Thu Dec  3 01:02:32 2026]
localrule boom:
    output: s3://bucket/run/b.txt (send to storage)
    jobid: 0
    reason: Forced execution
    resources: tmpdir=/tmp, mem_mb=1000, mem=1 GB
Traceback (most recent call last):
  File "/work/.snakemake/scripts/tmpk1t5b7w5.boom.py", line 4, in <module>
    raise ValueError("bad sample sheet: column sample missing")
ValueError: bad sample sheet: column sample missing
RuleException:
CalledProcessError in file "/work/Snakefile", line 4:
Command 'set -euo pipefail;  python /work/.snakemake/scripts/tmpk1t5b7w5.boom.py' returned non-zero exit status 1.
[Thu Dec  3 01:02:32 2026]
Error in rule boom:
    message: None
    jobid: 0
Shutting down, this might take some time.""".splitlines()


def test_the_message_quotes_what_the_command_printed_before_snakemakes_error():
    quote = log_quote(SCRIPT_FAILURE)
    quoted = quote.lines
    assert quote.title == "its log, before Snakemake's error"
    assert quoted[0] == '    raise ValueError("bad sample sheet: column sample missing")'
    assert quoted[1] == "ValueError: bad sample sheet: column sample missing"
    assert len(quoted) == 5 and quoted[-1].endswith("returned non-zero exit status 1.")
    single = GROUP.model_copy(update={"group": None, "rule": "boom"})
    message = failure_message(PLANE, single, None, quote)
    assert "\n    its log, before Snakemake's error:\n        " in message
    assert "\n        ValueError: bad sample sheet: column sample missing\n" in message


def test_nothing_is_quoted_when_the_command_printed_nothing_before_the_error():
    job_block_only = SCRIPT_FAILURE[:7] + SCRIPT_FAILURE[14:]  # its stderr went to the rule's log: file
    assert log_quote(job_block_only).lines == []
    single = GROUP.model_copy(update={"group": None, "rule": "boom"})
    assert "its log" not in failure_message(PLANE, single, None, log_quote(job_block_only))


def test_a_log_without_snakemakes_error_block_is_quoted_from_its_end():
    parse_error = ["Building DAG of jobs...", 'FileNotFoundError in file "Snakefile", line 3:', "[Errno 2] x"]
    assert log_quote(parse_error) == ("its log ends with", parse_error)
    assert log_quote(parse_error, limit=2).lines == parse_error[1:]


def test_a_run_reads_the_logs_of_its_first_failed_jobs_only(logs):
    executor = Executor.__new__(Executor)  # only the log reading: no workflow needed
    executor._failed_logs_read = 0
    reads = []
    executor.clients = lambda service: reads.append(service) or logs
    quoted = [executor._failed_log(GROUP) for _ in range(FAILED_LOGS_READ + 5)]
    assert len(reads) == FAILED_LOGS_READ == 50
    assert all(failed_rules(lines) == ["second"] for lines in quoted[:FAILED_LOGS_READ])
    assert quoted[FAILED_LOGS_READ:] == [[]] * 5
    assert executor._failed_log(GROUP.model_copy(update={"log_stream": None})) == []  # no stream: no call
    assert len(reads) == FAILED_LOGS_READ
