"""The real submit handler on moto Batch + DynamoDB: one spec -> at most one Batch job, whatever SQS does."""

from __future__ import annotations

import io
import json
from types import ModuleType
from typing import Any

import boto3
import pytest

from sls_contract.job_record import RUN_CONTROL_JOB_ID
from sls_contract.run_record import RunStatus
from sls_contract.run_store import RunStore
from sls_contract.status import JobStatus
from sls_contract.submit_request import build_submit_job_request
from sls_contract.submitter import UNPARSEABLE_RUN_ID
from tests.support.aws_calls import record_calls
from tests.support.cloud import BatchEnv
from tests.support.events import sqs_record
from tests.support.handlers import load_handler, unload_handler
from tests.support.specs import PARAMETER_ARN, SECRET_ARN, full_spec, model
from tests.support.submit_handler import batch_jobs, deliver, message, record_of, spec_on


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

    response = deliver(submit_app, lambda_context, message(spec_on(batch_env, version=3)))

    assert response == {"batchItemFailures": []}
    assert (record_of(submit_app).status, record_of(submit_app).status_reason) == (
        JobStatus.FAILED,
        "invalid job spec: version: Value error, job spec version 3 is not supported by this stack "
        "(it understands [1, 2]); deploy the stack version that matches the plugin",
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
