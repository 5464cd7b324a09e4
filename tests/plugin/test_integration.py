"""The vertical slice in-process: the plugin's messages -> the real submit handler -> moto Batch;
Batch-shaped state events -> the real record handler -> DynamoDB; check_active_jobs reports both the
success and the failure (with its reason) from DynamoDB alone, with no Batch call."""

import asyncio
import json
import time
from types import SimpleNamespace

import boto3
import pytest
from throttler import Throttler

from sls_contract.events import parse_state_change
from sls_contract.job_store import JobStore
from snakemake_executor_plugin_aws_basic_batch_sls.config import ControlPlane
from snakemake_executor_plugin_aws_basic_batch_sls.executor import Executor
from snakemake_executor_plugin_aws_basic_batch_sls.resources import Defaults, build_spec, spec_fields
from snakemake_executor_plugin_aws_basic_batch_sls.sender import encode, send_specs
from snakemake_executor_plugin_aws_basic_batch_sls.status_reader import StatusReader
from tests.support.aws_calls import ok_response, on_call, record_calls
from tests.support.events import sqs_event, state_change, state_events

RUN_ID = "run-integration"


class ReportingExecutor(Executor):
    """The real check_active_jobs; Snakemake's reporting hooks (its API, not ours) are captured."""

    def __init__(self, plane, store):
        self.plane = plane
        self.store = store
        self.reader = StatusReader(store, RUN_ID)
        self.status_rate_limiter = Throttler(rate_limit=10, period=1)
        self._checkpoint_outputs = []
        self._warned_waiting = set()
        self._failed_rounds = 0
        self._failed_logs_read = 0
        self.clients = lambda service: boto3.client(service, region_name=plane.region)  # moto's
        self.succeeded, self.failed = [], {}
        self.logger = SimpleNamespace(warning=print, info=print)

    def report_job_success(self, job_info):
        self.succeeded.append(job_info.external_jobid)

    def report_job_error(self, job_info, msg=None, **kwargs):
        self.failed[job_info.external_jobid] = msg


async def _round(executor, active):
    return [job async for job in executor.check_active_jobs(active)]


def _spec(rule, job_id, batch_env, resources):
    defaults = Defaults(batch_env.job_queue_arn, batch_env.job_definition_arn, None, ())
    fields = spec_fields(rule, 1, resources, defaults, unique=job_id)
    fields.update(
        run_id=RUN_ID, job_id=job_id, workflow="wf", rule=rule, snakemake_jobid=1,
        command=["/bin/bash", "-c", "true"], environment={"SNAKEMAKE_STORAGE_S3_ENDPOINT_URL": "x"},
    )  # fmt: skip
    return build_spec(rule, fields, resources)


def _batch_event(status, batch_job, spec, **extra):
    """A state event shaped from the sample, for the Batch job moto created."""
    event = state_change(f"batch_job_{status.lower()}", spec.run_id, spec.job_id)
    event["detail"].update(
        jobId=batch_job["jobId"], jobArn=batch_job["jobArn"], jobName=spec.job_name, **extra
    )
    return event


@pytest.mark.usefixtures("jobs_table")
def test_plugin_messages_to_batch_and_states_back(
    submit_app, record_app, jobs_queue, batch_env, lambda_context
):
    sqs = boto3.client("sqs")
    store = JobStore(boto3.client("dynamodb"), submit_app.settings.jobs_table_name)
    plane = ControlPlane(
        region="us-east-1", queue_url=jobs_queue.url, jobs_table=submit_app.settings.jobs_table_name,
        job_queue=batch_env.job_queue_arn, job_definition=batch_env.job_definition_arn,
        dead_letter_queue_url=jobs_queue.dlq_url, endpoint_url=None, task_timeout=None, tags={},
        secrets=(), status_grace_seconds=60,
    )  # fmt: skip
    good = _spec("ok", "a" * 32, batch_env, {"aws_batch_task_timeout": 120})
    bad = _spec("broken", "b" * 32, batch_env, {})
    submits = record_calls(submit_app.batch, "SubmitJob")

    # GIVEN the plugin sent two specs
    assert send_specs(sqs, jobs_queue.url, encode([good, bad])) == {}
    messages = sqs.receive_message(QueueUrl=jobs_queue.url, MaxNumberOfMessages=10, AttributeNames=["All"])
    records = [
        {
            "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
            "attributes": m["Attributes"], "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
            "eventSource": "aws:sqs", "eventSourceARN": jobs_queue.arn, "awsRegion": "us-east-1",
        }
        for m in messages["Messages"]
    ]  # fmt: skip
    # WHEN the submit function handles them
    response = submit_app.lambda_handler(sqs_event(*records), lambda_context)
    # THEN each became exactly one Batch job with our timeout
    assert response == {"batchItemFailures": []}
    assert len(submits) == 2
    assert {c["jobName"] for c in submits} == {good.job_name, bad.job_name}
    assert next(c for c in submits if c["jobName"] == good.job_name)["timeout"] == {
        "attemptDurationSeconds": 120
    }
    batch = boto3.client("batch")
    jobs = {
        j["jobName"]: j
        for j in batch.list_jobs(jobQueue=batch_env.job_queue_arn, jobStatus="SUCCEEDED")["jobSummaryList"]
    }
    executor = ReportingExecutor(plane, store)
    active = [
        SimpleNamespace(
            external_jobid=s.job_id,
            aux={"sent_at": time.time(), "job_name": s.job_name},
            # a Snakemake job with no storage outputs (nothing to retrieve after it succeeds)
            job=SimpleNamespace(is_group=lambda: False, output=[]),
        )
        for s in (good, bad)
    ]
    # The first round sees SUBMITTED records only: both still active.
    assert len(asyncio.run(_round(executor, active))) == 2

    # WHEN Batch's events arrive (out of order, one duplicated) through the record function
    events = [
        _batch_event("SUCCEEDED", jobs[good.job_name], good),
        _batch_event("RUNNING", jobs[good.job_name], good),
        _batch_event("FAILED", jobs[bad.job_name], bad),
        _batch_event("FAILED", jobs[bad.job_name], bad),
    ]
    assert record_app.lambda_handler(state_events(*events), lambda_context) == {"batchItemFailures": []}
    still_active = asyncio.run(_round(executor, active))

    # THEN the success and the failure (exit code, reason, log) are reported from DynamoDB alone
    assert still_active == []
    assert executor.succeeded == [good.job_id]
    message = executor.failed[bad.job_id]
    failed_detail = json.loads(json.dumps(events[2]["detail"]))
    assert f"exit code {failed_detail['container']['exitCode']}" in message
    assert failed_detail["statusReason"] in message
    assert failed_detail["container"]["logStreamName"] in message
    assert executor.reader.calls == 2  # one Query per round


@pytest.mark.usefixtures("jobs_table")
def test_a_final_state_the_index_showed_too_late_is_read_before_asking_batch(submit_app, batch_env):
    # GIVEN a job the plugin last saw SUBMITTED, whose SUCCEEDED the incremental read missed
    store = JobStore(boto3.client("dynamodb"), submit_app.settings.jobs_table_name)
    spec = _spec("ok", "c" * 32, batch_env, {})
    store.claim(spec, "t", 120)
    store.mark_submitted(spec, "batch-late", None)
    plane = SimpleNamespace(reconcile_function="reconcile", reconcile_after_seconds=5)
    executor = ReportingExecutor(plane, store)
    executor.reader.refresh()
    executor.reader.changed_at[spec.job_id] = time.monotonic() - 60  # no news for a minute
    succeeded = state_change("batch_job_succeeded", spec.run_id, spec.job_id, jobId="batch-late")
    store.apply_state_change(parse_state_change(succeeded).detail)
    lambda_client = boto3.client("lambda")
    invokes = record_calls(lambda_client, "Invoke")
    on_call(lambda_client, "Invoke", lambda _body: ok_response({"StatusCode": 202}))
    executor.clients = lambda service: lambda_client

    # WHEN the round looks for quiet jobs
    executor._reconcile_quiet([spec.job_id])

    # THEN the consistent read finds the final state; Batch is not asked (its reconciler would skip it)
    assert executor.reader.latest[spec.job_id].status == "SUCCEEDED"
    assert invokes == []
