"""The submit_job handler when SubmitJob is throttled or fails, or a claimant died: the message comes back,
the claim is released and the job is made once in the end."""

from __future__ import annotations

import json
import time
from types import ModuleType, SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

import sls_contract.job_store as store_module
from sls_contract.status import JobStatus
from sls_contract.submitter import CLAIM_LEASE_SECONDS
from tests.support.aws_calls import fail_first, ok_response, on_call, record_calls
from tests.support.cloud import BatchEnv, properties
from tests.support.specs import model
from tests.support.submit_handler import THROTTLED, batch_jobs, deliver, message, record_of, spec_on


def test_throttling_returns_the_message_releases_the_claim_and_a_redelivery_submits_once(
    submit_app: ModuleType, batch_env: BatchEnv, lambda_context: Any
) -> None:
    # GIVEN Batch throttles the first SubmitJob
    sent = record_calls(submit_app.batch, "SubmitJob")
    fail_first(submit_app.batch, "SubmitJob", 1, *THROTTLED)
    throttled = spec_on(batch_env, job_id="job-throttled")
    fine = spec_on(batch_env, job_id="job-fine0000")

    # WHEN a batch holds the throttled spec and another one
    response = deliver(submit_app, lambda_context, message(throttled, "msg-t"), message(fine, "msg-f"))

    # THEN only the throttled message goes back to the queue, and its claim is released
    assert response == {"batchItemFailures": [{"itemIdentifier": "msg-t"}]}
    record = record_of(submit_app, job_id="job-throttled")
    assert (record.status, record.claimed_at, record.claim_token, record.batch_job_id) == (
        JobStatus.SUBMITTING,
        None,
        None,
        None,
    )
    assert record_of(submit_app, job_id="job-fine0000").status == JobStatus.SUBMITTED

    # WHEN SQS redelivers it (at once: no lease to wait for)
    assert deliver(submit_app, lambda_context, message(throttled, "msg-t", receive_count=2)) == {
        "batchItemFailures": []
    }

    # THEN it is submitted exactly once more
    assert [body["jobName"] for body in sent] == ["snakemake-bwa_map-1"] * 3
    assert [body["containerOverrides"]["environment"][0]["value"] for body in sent] == [
        "job-throttled",
        "job-fine0000",
        "job-throttled",
    ]
    assert len(batch_jobs(batch_env)) == 2
    assert record_of(submit_app, job_id="job-throttled").status == JobStatus.SUBMITTED


def test_a_batch_of_only_throttled_messages_fails_the_invocation(
    submit_app: ModuleType, batch_env: BatchEnv, lambda_context: Any
) -> None:
    # Powertools raises when every record failed; Lambda then returns the whole batch to the queue.
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    fail_first(submit_app.batch, "SubmitJob", 1, *THROTTLED)

    with pytest.raises(BatchProcessingError):
        deliver(submit_app, lambda_context, message(spec_on(batch_env)))

    assert record_of(submit_app).claimed_at is None


def test_throttling_on_the_last_allowed_receive_records_failed(
    submit_app: ModuleType, batch_env: BatchEnv, lambda_context: Any
) -> None:
    fail_first(submit_app.batch, "SubmitJob", 1, *THROTTLED)
    last = submit_app.settings.submit_max_receive_count

    response = deliver(submit_app, lambda_context, message(spec_on(batch_env), receive_count=last))

    assert response == {"batchItemFailures": []}
    record = record_of(submit_app)
    assert (record.status, record.status_reason) == (
        JobStatus.FAILED,
        "gave up after the queue's last delivery: SubmitJob snakemake-bwa_map-1: "
        "TooManyRequestsException: Too Many Requests",
    )


def test_a_server_error_is_retried_like_throttling(
    submit_app: ModuleType, batch_env: BatchEnv, lambda_context: Any
) -> None:
    fail_first(submit_app.batch, "SubmitJob", 1, "ServerException", "internal error", 500)
    fine = spec_on(batch_env, job_id="job-fine0000")

    response = deliver(submit_app, lambda_context, message(spec_on(batch_env)), message(fine, "msg-f"))

    assert response == {"batchItemFailures": [{"itemIdentifier": "msg-1"}]}


def test_a_claim_left_by_a_dead_invocation_does_not_strand_the_redelivered_spec(
    submit_app: ModuleType,
    batch_env: BatchEnv,
    lambda_context: Any,
    template: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN an invocation claimed the spec and died before SubmitJob (timeout, OOM, DynamoDB error)
    spec = spec_on(batch_env)
    start = time.time()
    monkeypatch.setattr(store_module, "time", SimpleNamespace(time=lambda: start))
    assert submit_app.store.claim(model(spec), "dead-invocation", CLAIM_LEASE_SECONDS)
    sent = record_calls(submit_app.batch, "SubmitJob")

    # WHEN SQS redelivers the message once its visibility timeout has passed
    visibility = properties(template, "JobsQueue")["VisibilityTimeout"]
    monkeypatch.setattr(store_module, "time", SimpleNamespace(time=lambda: start + visibility))
    assert deliver(submit_app, lambda_context, message(spec, receive_count=2)) == {"batchItemFailures": []}

    # THEN the redelivery submits it (a DUPLICATE outcome would delete the only message of the spec)
    assert len(sent) == 1
    assert record_of(submit_app).status == JobStatus.SUBMITTED


def test_a_spec_whose_dead_claimant_already_made_the_job_is_not_submitted_again(
    submit_app: ModuleType, batch_env: BatchEnv, lambda_context: Any, dynamodb: Any
) -> None:
    # GIVEN a delivery that claimed the spec, called SubmitJob, and died before recording the job id
    spec = spec_on(batch_env)
    submit_app.store.claim(model(spec), "dead-delivery", CLAIM_LEASE_SECONDS)
    made = boto3.client("batch").submit_job(
        jobName=spec["job_name"], jobQueue=batch_env.job_queue, jobDefinition=batch_env.job_definition
    )
    dynamodb.update_item(  # ... and its lease ran out
        TableName=submit_app.settings.jobs_table_name,
        Key={"run_id": {"S": spec["run_id"]}, "job_id": {"S": spec["job_id"]}},
        UpdateExpression="SET claimed_at = :old",
        ExpressionAttributeValues={":old": {"N": str(int(time.time()) - CLAIM_LEASE_SECONDS - 1)}},
    )
    submits = record_calls(submit_app.batch, "SubmitJob")

    # WHEN the message is delivered again
    assert deliver(submit_app, lambda_context, message(spec, receive_count=2)) == {"batchItemFailures": []}

    # THEN the job is found by its name and recorded: no second Batch job
    assert submits == []
    assert record_of(submit_app).batch_job_id == made["jobId"]


def test_a_submit_job_retried_after_a_server_error_that_made_a_job_keeps_one(
    submit_app: ModuleType, batch_env: BatchEnv, lambda_context: Any
) -> None:
    # GIVEN Batch makes the job on the first SubmitJob but answers 500 (botocore then retries)
    spec = spec_on(batch_env)
    made: list[str] = []

    def processed_then_500(request: Any, **_: Any) -> Any:
        if made:
            return None  # the retry reaches (moto) Batch
        made.append(boto3.client("batch").submit_job(**json.loads(request.body))["jobId"])
        body = json.dumps({"__type": "ServerException", "message": "internal error"}).encode()
        return AWSResponse(request.url, 500, {}, SimpleNamespace(stream=lambda: [body]))

    # at the HTTP layer (before-send, ahead of moto), so botocore's own retries see the 500
    submit_app.batch.meta.events.register_first("before-send.batch.SubmitJob", processed_then_500)
    terminated: list[dict[str, Any]] = []  # moto in-process has no TerminateJobs: answer it here
    on_call(
        submit_app.batch,
        "TerminateJobs",
        lambda body: terminated.append(body) or ok_response({"successful": body["jobs"], "errors": []}),
    )

    assert deliver(submit_app, lambda_context, message(spec)) == {"batchItemFailures": []}

    # THEN the job the retry made is recorded and the first one is terminated as its duplicate
    kept = record_of(submit_app).batch_job_id
    assert kept and kept != made[0]
    [call] = terminated
    assert made[0] in call["jobs"] and kept not in call["jobs"]
    assert call["reason"] == f"duplicate of {kept}: SubmitJob was retried after a server error"
