"""The real submit handler on moto Batch + DynamoDB: one spec -> at most one Batch job, whatever SQS does."""

from __future__ import annotations

import io
import json
import time
from types import ModuleType, SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

import sls_contract.store as store_module
from sls_contract.record import RUN_CONTROL_JOB_ID, JobRecord
from sls_contract.run_record import RunStatus
from sls_contract.run_store import RunStore
from sls_contract.status import JobStatus
from sls_contract.submit_request import build_submit_job_request
from sls_contract.submitter import CANCEL_CHECK_REUSE_SECONDS, CLAIM_LEASE_SECONDS, UNPARSEABLE_RUN_ID
from tests.support.aws_calls import error_response, fail_first, ok_response, on_call, record_calls
from tests.support.cloud import BatchEnv, properties
from tests.support.events import sqs_event, sqs_record
from tests.support.handlers import load_handler, unload_handler
from tests.support.specs import PARAMETER_ARN, SECRET_ARN, full_spec, minimal_spec, model

THROTTLED = ("TooManyRequestsException", "Too Many Requests", 429)


def spec_on(batch_env: BatchEnv, **overrides: Any) -> dict[str, Any]:
    return minimal_spec(
        **{"job_queue": batch_env.job_queue, "job_definition": batch_env.job_definition, **overrides}
    )


def deliver(app: ModuleType, context: Any, *records: dict[str, Any]) -> dict[str, Any]:
    return app.lambda_handler(sqs_event(*records), context)


def message(spec: dict[str, Any], message_id: str = "msg-1", receive_count: int = 1) -> dict[str, Any]:
    return sqs_record(json.dumps(spec), message_id, receive_count)


def record_of(app: ModuleType, run_id: str = "run-1", job_id: str = "job-00000001") -> JobRecord:
    return app.store.get_records(run_id, [job_id])[job_id]


def batch_jobs(batch_env: BatchEnv) -> list[dict[str, Any]]:
    batch = boto3.client("batch")
    summaries = batch.list_jobs(jobQueue=batch_env.job_queue, filters=[{"name": "JOB_NAME", "values": ["*"]}])
    ids = [job["jobId"] for job in summaries["jobSummaryList"]]
    return batch.describe_jobs(jobs=ids)["jobs"] if ids else []


def test_one_message_makes_one_batch_job_with_exactly_the_specs_request(
    submit_app: ModuleType, batch_env: BatchEnv, lambda_context: Any
) -> None:
    # GIVEN a full spec (no secrets or image, so the user's job definition is used as is)
    spec = full_spec(
        job_queue=batch_env.job_queue,
        job_definition=batch_env.job_definition,
        secrets=[],
        container_image=None,
    )
    sent = record_calls(submit_app.batch, "SubmitJob")

    # WHEN the submit function receives it
    response = deliver(submit_app, lambda_context, message(spec))

    # THEN Batch received exactly the request the contract builds, once
    assert response == {"batchItemFailures": []}
    settings = submit_app.settings
    assert sent == [
        build_submit_job_request(model(spec), table=settings.jobs_table_name, stack=settings.stack_name)
    ]
    [job] = batch_jobs(batch_env)
    assert job["jobName"] == "snakemake-bwa_map-1"
    # the stack's tag, which its IAM requires to terminate the job
    assert job["tags"] == {
        "project": "rna-seq",
        "snakemake:rule": "bwa_map",
        "aws-basic-batch-sls:stack": "test-stack",
    }
    assert job["timeout"] == {"attemptDurationSeconds": 3600}
    environment = {e["name"]: e["value"] for e in job["container"]["environment"]}
    assert environment["SLS_RUN_ID"] == "run-1"
    assert environment["SLS_JOB_ID"] == "job-00000001"
    # AND the record says SUBMITTED with the job Batch made
    record = record_of(submit_app)
    assert (record.status, record.progress, record.batch_job_id, record.job_arn) == (
        JobStatus.SUBMITTED,
        1,
        job["jobId"],
        job["jobArn"],
    )
    assert (record.rule, record.workflow, record.snakemake_jobid, record.job_queue) == (
        "bwa_map",
        "rna-seq",
        1,
        batch_env.job_queue,
    )


def test_the_same_message_delivered_twice_submits_once(
    submit_app: ModuleType, batch_env: BatchEnv, lambda_context: Any
) -> None:
    spec = spec_on(batch_env)
    sent = record_calls(submit_app.batch, "SubmitJob")

    # WHEN SQS delivers it twice in one batch (different message ids: the plugin re-sent it)...
    first = deliver(submit_app, lambda_context, message(spec, "msg-1"), message(spec, "msg-2"))
    # ...and once more later with the same message id (a redelivery)
    second = deliver(submit_app, lambda_context, message(spec, "msg-1", receive_count=2))

    # THEN one SubmitJob, one Batch job, one record; no delivery is reported as failed
    assert first == second == {"batchItemFailures": []}
    assert len(sent) == 1
    assert len(batch_jobs(batch_env)) == 1
    assert [r.job_id for r in submit_app.store.run_jobs("run-1")] == ["job-00000001"]
    assert record_of(submit_app).status == JobStatus.SUBMITTED


def test_a_terminal_record_is_never_submitted(
    submit_app: ModuleType, batch_env: BatchEnv, lambda_context: Any
) -> None:
    submit_app.store.mark_failed("run-1", "job-00000001", "failed earlier")
    sent = record_calls(submit_app.batch, "SubmitJob")

    assert deliver(submit_app, lambda_context, message(spec_on(batch_env))) == {"batchItemFailures": []}

    assert sent == []
    assert (record_of(submit_app).status, record_of(submit_app).status_reason) == (
        JobStatus.FAILED,
        "failed earlier",
    )


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


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        (
            {"job_definition": "no-such-definition"},
            "job definition 'no-such-definition' does not exist or is not ACTIVE; register it or fix "
            "aws_batch_job_definition / the stack's JobDefinitionArn",
        ),
        (
            {"job_queue": "no-such-queue"},
            "SubmitJob snakemake-bwa_map-1 rejected by AWS Batch: ClientException: "
            "Job queue no-such-queue does not exist",
        ),
    ],
    ids=["unknown-job-definition", "unknown-job-queue"],
)
def test_unknown_definition_or_queue_fails_the_record_and_is_not_retried(
    submit_app: ModuleType, batch_env: BatchEnv, lambda_context: Any, overrides: dict[str, str], reason: str
) -> None:
    spec = spec_on(batch_env, **overrides)

    first = deliver(submit_app, lambda_context, message(spec))
    sent = record_calls(submit_app.batch, "SubmitJob")
    again = deliver(submit_app, lambda_context, message(spec, receive_count=2))

    assert first == again == {"batchItemFailures": []}
    assert (record_of(submit_app).status, record_of(submit_app).status_reason) == (JobStatus.FAILED, reason)
    assert sent == []
    assert batch_jobs(batch_env) == []


def test_invalid_json_is_recorded_under_the_message_id(
    submit_app: ModuleType, batch_env: BatchEnv, lambda_context: Any
) -> None:
    sent = record_calls(submit_app.batch, "SubmitJob")
    broken = sqs_record('{"run_id": "run-1", "job_id": ', "msg-broken")

    assert deliver(submit_app, lambda_context, broken) == {"batchItemFailures": []}

    record = record_of(submit_app, UNPARSEABLE_RUN_ID, "msg-broken")
    assert record.status == JobStatus.FAILED
    assert record.status_reason.startswith("invalid job spec: (root): Invalid JSON: EOF while parsing")
    assert sent == []


def test_an_unknown_version_is_recorded_under_the_specs_keys(
    submit_app: ModuleType, batch_env: BatchEnv, lambda_context: Any
) -> None:
    sent = record_calls(submit_app.batch, "SubmitJob")

    response = deliver(submit_app, lambda_context, message(spec_on(batch_env, version=2)))

    assert response == {"batchItemFailures": []}
    assert (record_of(submit_app).status, record_of(submit_app).status_reason) == (
        JobStatus.FAILED,
        "invalid job spec: version: Value error, job spec version 2 is not supported by this stack "
        "(it understands [1]); deploy the stack version that matches the plugin",
    )
    assert sent == []


def test_per_rule_secrets_use_one_derived_definition_per_secret_set(
    submit_app: ModuleType, batch_env: BatchEnv, lambda_context: Any
) -> None:
    describes = record_calls(submit_app.batch, "DescribeJobDefinitions")
    registers = record_calls(submit_app.batch, "RegisterJobDefinition")
    sent = record_calls(submit_app.batch, "SubmitJob")
    db_secret = [{"name": "DB_PASSWORD", "valueFrom": SECRET_ARN}]
    token_secret = [{"name": "API_TOKEN", "valueFrom": PARAMETER_ARN}]

    # WHEN two specs with the same secrets arrive, then one with other secrets
    deliver(
        submit_app,
        lambda_context,
        message(spec_on(batch_env, job_id="job-secret-1", secrets=db_secret), "m1"),
        message(spec_on(batch_env, job_id="job-secret-2", secrets=db_secret), "m2"),
    )
    deliver(
        submit_app, lambda_context, message(spec_on(batch_env, job_id="job-secret-3", secrets=token_secret))
    )

    # THEN the base is described once, each derived name looked up once, and two revisions registered
    assert describes == [
        {"jobDefinitions": [batch_env.job_definition], "status": "ACTIVE"},
        {"jobDefinitionName": registers[0]["jobDefinitionName"], "status": "ACTIVE"},
        {"jobDefinitionName": registers[1]["jobDefinitionName"], "status": "ACTIVE"},
    ]
    assert len(registers) == 2
    assert all(r["jobDefinitionName"].startswith("test-stack-derived-") for r in registers)
    assert [r["containerProperties"]["secrets"] for r in registers] == [db_secret, token_secret]
    assert registers[0]["containerProperties"]["image"] == "public.ecr.aws/docker/library/python:3.12-slim"
    derived = [
        f"arn:aws:batch:us-east-1:123456789012:job-definition/{r['jobDefinitionName']}:1" for r in registers
    ]
    assert [body["jobDefinition"] for body in sent] == [derived[0], derived[0], derived[1]]
    assert [record_of(submit_app, job_id=f"job-secret-{i}").status for i in (1, 2, 3)] == [
        JobStatus.SUBMITTED
    ] * 3


def test_a_new_cold_start_finds_the_derived_definition_instead_of_registering_again(
    submit_app: ModuleType, batch_env: BatchEnv, lambda_context: Any
) -> None:
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/snakemake:9.27"
    deliver(
        submit_app, lambda_context, message(spec_on(batch_env, job_id="job-image-01", container_image=image))
    )
    fresh = load_handler("submit_job")
    try:
        registers = record_calls(fresh.batch, "RegisterJobDefinition")
        sent = record_calls(fresh.batch, "SubmitJob")

        deliver(
            fresh, lambda_context, message(spec_on(batch_env, job_id="job-image-02", container_image=image))
        )

        assert registers == []
        assert len(sent) == 1
        definition = boto3.client("batch").describe_job_definitions(jobDefinitions=[sent[0]["jobDefinition"]])
        assert definition["jobDefinitions"][0]["containerProperties"]["image"] == image
    finally:
        unload_handler(fresh)


def test_fargate_with_an_invalid_pair_fails_naming_the_nearest_pairs(
    submit_app: ModuleType, batch_env: BatchEnv, lambda_context: Any
) -> None:
    sent = record_calls(submit_app.batch, "SubmitJob")
    spec = spec_on(batch_env, job_definition=batch_env.fargate_job_definition, vcpu=1, memory_mib=1024)

    assert deliver(submit_app, lambda_context, message(spec)) == {"batchItemFailures": []}

    assert sent == []
    assert (record_of(submit_app).status, record_of(submit_app).status_reason) == (
        JobStatus.FAILED,
        "vcpu=1 with mem_mb=1024 is not a valid Fargate combination; nearest valid: "
        "vcpu=0.5 mem_mb=1024, vcpu=0.25 mem_mb=1024, vcpu=1 mem_mb=2048",
    )


def test_fargate_with_a_valid_pair_is_submitted(
    submit_app: ModuleType, batch_env: BatchEnv, lambda_context: Any
) -> None:
    sent = record_calls(submit_app.batch, "SubmitJob")
    spec = spec_on(batch_env, job_definition=batch_env.fargate_job_definition, vcpu=0.5, memory_mib=4096)

    assert deliver(submit_app, lambda_context, message(spec)) == {"batchItemFailures": []}

    assert sent[0]["containerOverrides"]["resourceRequirements"] == [
        {"type": "VCPU", "value": "0.5"},
        {"type": "MEMORY", "value": "4096"},
    ]
    assert record_of(submit_app).status == JobStatus.SUBMITTED


def test_a_cancelled_run_is_never_submitted(
    submit_app: ModuleType, batch_env: BatchEnv, lambda_context: Any
) -> None:
    submit_app.store.request_cancel("run-1", "user pressed ctrl-c")
    sent = record_calls(submit_app.batch, "SubmitJob")

    assert deliver(submit_app, lambda_context, message(spec_on(batch_env))) == {"batchItemFailures": []}

    assert sent == []
    assert (record_of(submit_app).status, record_of(submit_app).status_reason) == (
        JobStatus.FAILED,
        "cancelled before submission: user pressed ctrl-c",
    )


def test_a_cancel_arriving_during_submit_job_terminates_the_new_job(
    submit_app: ModuleType, batch_env: BatchEnv, lambda_context: Any
) -> None:
    # GIVEN the run is cancelled while SubmitJob is on its way to Batch
    def cancel_meanwhile(_body: dict[str, Any]) -> None:
        submit_app.store.request_cancel("run-1", "user pressed ctrl-c")

    on_call(submit_app.batch, "SubmitJob", cancel_meanwhile)
    terminated: list[dict[str, Any]] = []

    def terminate(body: dict[str, Any]) -> Any:
        terminated.append(body)
        return ok_response({"successful": body["jobs"], "errors": []})

    on_call(submit_app.batch, "TerminateJobs", terminate)

    # WHEN the spec is submitted
    assert deliver(submit_app, lambda_context, message(spec_on(batch_env))) == {"batchItemFailures": []}

    # THEN the job it made is terminated with the cancel's reason
    record = record_of(submit_app)
    assert record.batch_job_id is not None
    assert terminated == [{"jobs": [record.batch_job_id], "reason": "user pressed ctrl-c"}]


def test_a_batch_of_one_runs_specs_reads_the_cancel_mark_twice_in_all(
    submit_app: ModuleType, batch_env: BatchEnv, lambda_context: Any
) -> None:
    # GIVEN three specs of one run in one batch
    reads = record_calls(submit_app.store.client, "BatchGetItem")
    specs = [spec_on(batch_env, job_id=f"job-{i:08d}", job_name=f"snakemake-bwa_map-{i}") for i in range(3)]

    # WHEN they are submitted
    response = deliver(submit_app, lambda_context, *(message(s, f"msg-{i}") for i, s in enumerate(specs)))

    # THEN the first was checked before SubmitJob (the others reuse that "not cancelled" read made
    # moments earlier), and all three once more together after the last SubmitJob
    assert response == {"batchItemFailures": []}
    assert len(batch_jobs(batch_env)) == 3
    assert len(reads) == 2
    assert sorted(
        key["run_id"]["S"] for key in reads[-1]["RequestItems"][submit_app.store.table_name]["Keys"]
    ) == ["run-1"]


def test_a_cancel_during_a_delivery_terminates_only_the_cancelled_runs_jobs(
    submit_app: ModuleType, batch_env: BatchEnv, lambda_context: Any
) -> None:
    # GIVEN a delivery with a spec of run-1 then one of run-2, and run-1 cancelled while the second
    # spec's SubmitJob is on its way (after run-1's spec was checked and submitted)
    sent = record_calls(submit_app.batch, "SubmitJob")

    def cancel_run_1_at_second_submit(_body: dict[str, Any]) -> None:
        if len(sent) == 2:
            submit_app.store.request_cancel("run-1", "user pressed ctrl-c")

    on_call(submit_app.batch, "SubmitJob", cancel_run_1_at_second_submit)
    terminated: list[dict[str, Any]] = []
    on_call(
        submit_app.batch,
        "TerminateJobs",
        lambda body: terminated.append(body) or ok_response({"successful": body["jobs"], "errors": []}),
    )
    run_1 = spec_on(batch_env, run_id="run-1", job_id="job-00000001")
    run_2 = spec_on(batch_env, run_id="run-2", job_id="job-00000002", job_name="snakemake-bwa_map-2")

    # WHEN the delivery is handled
    response = deliver(submit_app, lambda_context, message(run_1, "msg-1"), message(run_2, "msg-2"))

    # THEN both were submitted, and the recheck after the delivery terminates run-1's job only
    assert response == {"batchItemFailures": []}
    assert len(sent) == 2
    run_1_job = record_of(submit_app, "run-1", "job-00000001").batch_job_id
    assert terminated == [{"jobs": [run_1_job], "reason": "user pressed ctrl-c"}]
    assert record_of(submit_app, "run-2", "job-00000002").status == JobStatus.SUBMITTED


def test_a_cancel_landing_after_a_reused_read_still_terminates_the_job(
    submit_app: ModuleType, batch_env: BatchEnv, lambda_context: Any
) -> None:
    # GIVEN one spec of the run submitted (its "not cancelled" read is fresh), then the run cancelled
    deliver(submit_app, lambda_context, message(spec_on(batch_env)))
    submit_app.store.request_cancel("run-1", "user pressed ctrl-c")
    terminated: list[dict[str, Any]] = []

    def terminate(body: dict[str, Any]) -> Any:
        terminated.append(body)
        return ok_response({"successful": body["jobs"], "errors": []})

    on_call(submit_app.batch, "TerminateJobs", terminate)

    # WHEN the next spec of the run arrives at once (the check before SubmitJob reuses that read)
    second = spec_on(batch_env, job_id="job-00000002", job_name="snakemake-bwa_map-2")
    assert deliver(submit_app, lambda_context, message(second, "msg-2")) == {"batchItemFailures": []}

    # THEN the read after SubmitJob sees the cancel and the new job is terminated
    record = record_of(submit_app, job_id="job-00000002")
    assert record.batch_job_id is not None
    assert terminated == [{"jobs": [record.batch_job_id], "reason": "user pressed ctrl-c"}]


def test_a_stale_not_cancelled_read_is_not_reused(
    submit_app: ModuleType, batch_env: BatchEnv, lambda_context: Any
) -> None:
    # GIVEN a spec submitted, the run cancelled, and more than the reuse window gone by
    now = [1000.0]
    submit_app.submitter._clock = lambda: now[0]
    deliver(submit_app, lambda_context, message(spec_on(batch_env)))
    submit_app.store.request_cancel("run-1", "user pressed ctrl-c")
    now[0] += CANCEL_CHECK_REUSE_SECONDS
    sent = record_calls(submit_app.batch, "SubmitJob")

    # WHEN the next spec of the run arrives
    second = spec_on(batch_env, job_id="job-00000002", job_name="snakemake-bwa_map-2")
    assert deliver(submit_app, lambda_context, message(second, "msg-2")) == {"batchItemFailures": []}

    # THEN it is checked afresh and never submitted
    assert sent == []
    assert record_of(submit_app, job_id="job-00000002").status == JobStatus.FAILED


def test_log_lines_of_a_record_carry_only_that_records_keys(
    submit_app: ModuleType, batch_env: BatchEnv, lambda_context: Any
) -> None:
    # GIVEN a batch with a good spec followed by an unreadable one
    out = io.StringIO()
    submit_app.logger.registered_handler.setStream(out)

    deliver(submit_app, lambda_context, message(spec_on(batch_env)), sqs_record("{broken", "msg-broken"))

    # THEN the rejection is not labelled with the previous record's run and job
    lines = {line["message"]: line for line in map(json.loads, out.getvalue().splitlines())}
    assert (lines["job spec handled"]["run_id"], lines["job spec handled"]["job_id"]) == (
        "run-1",
        "job-00000001",
    )
    assert "run_id" not in lines["rejected job spec"]
    assert "job_id" not in lines["rejected job spec"]
    assert lines["rejected job spec"]["keys"] == [UNPARSEABLE_RUN_ID, "msg-broken"]


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


def test_a_failed_recheck_fails_the_invocation_and_the_next_one_covers_its_jobs(
    submit_app: ModuleType, batch_env: BatchEnv, lambda_context: Any
) -> None:
    # GIVEN the cancel marks cannot be read once the spec was submitted
    failing = [False]
    on_call(
        submit_app.store.client,
        "BatchGetItem",
        lambda _body: error_response("InternalServerError", "try again", 500) if failing[0] else None,
    )
    on_call(submit_app.batch, "SubmitJob", lambda _body: failing.__setitem__(0, True))

    # WHEN a spec is delivered, THEN the invocation fails (SQS will deliver the batch again)
    with pytest.raises(ClientError):
        deliver(submit_app, lambda_context, message(spec_on(batch_env)))
    failing[0] = False
    first_job = record_of(submit_app).batch_job_id
    assert first_job is not None

    # AND the next delivery's recheck covers that job as well: the run is cancelled meanwhile, the
    # next spec passes the check before SubmitJob (a "not cancelled" read moments old), and then both
    # jobs are terminated
    submit_app.store.request_cancel("run-1", "user pressed ctrl-c")
    terminated: list[dict[str, Any]] = []
    on_call(
        submit_app.batch,
        "TerminateJobs",
        lambda body: terminated.append(body) or ok_response({"successful": body["jobs"], "errors": []}),
    )
    on_call(submit_app.batch, "SubmitJob", lambda _body: failing.__setitem__(0, False))  # reads work now
    second = spec_on(batch_env, job_id="job-00000002", job_name="snakemake-bwa_map-2")
    assert deliver(submit_app, lambda_context, message(second, "msg-2")) == {"batchItemFailures": []}
    second_job = record_of(submit_app, job_id="job-00000002").batch_job_id
    assert terminated == [{"jobs": [first_job, second_job], "reason": "user pressed ctrl-c"}]


def test_a_spec_whose_job_id_names_the_runs_control_item_is_recorded_under_its_message_id(
    submit_app: ModuleType, batch_env: BatchEnv, lambda_context: Any, dynamodb: Any
) -> None:
    runs = RunStore(dynamodb, submit_app.settings.jobs_table_name)
    runs.create("run-1", "schedule", None)
    runs.start("run-1", "arn:aws:states:us-east-1:123456789012:execution:m:run-1", "schedule", {})
    spec = spec_on(batch_env, run_id="run-1", job_id=RUN_CONTROL_JOB_ID)

    assert deliver(submit_app, lambda_context, message(spec, "msg-inject")) == {"batchItemFailures": []}

    assert runs.get("run-1").status == RunStatus.RUNNING  # was: FAILED, by a write onto '#run'
    record = record_of(submit_app, UNPARSEABLE_RUN_ID, "msg-inject")
    assert record.status == JobStatus.FAILED and "job_id" in record.status_reason


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


def test_a_spec_whose_submit_request_exceeds_batchs_30_kib_payload_is_failed_with_the_reason(
    submit_app: ModuleType, batch_env: BatchEnv, lambda_context: Any
) -> None:
    # GIVEN a spec whose command alone is 40 KB (Batch's SubmitJob payload quota is 30 KiB)
    spec = spec_on(batch_env, command=["python", "-c", "x" * 40_000])
    # WHEN it is delivered THEN it is not retried, no Batch job is made, and the record says why
    assert deliver(submit_app, lambda_context, message(spec)) == {"batchItemFailures": []}
    assert batch_jobs(batch_env) == []
    record = record_of(submit_app)
    assert record.status == JobStatus.FAILED
    assert "rule bwa_map" in record.status_reason and "at most 30 KiB" in record.status_reason
