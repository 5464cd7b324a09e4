"""The submit_job handler and cancelled runs: nothing submitted for them, and a job made while the cancel
landed is terminated by the delivery's recheck."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sls_contract.status import JobStatus
from sls_contract.submitter import CANCEL_CHECK_REUSE_SECONDS
from tests.support.aws_calls import error_response, ok_response, on_call, record_calls
from tests.support.cloud import BatchEnv
from tests.support.submit_handler import batch_jobs, deliver, message, record_of, spec_on


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
    submit_app.submitter._clock = lambda: 1000.0  # the next delivery comes within the reuse window
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


def test_a_failed_recheck_fails_the_invocation_and_the_next_one_covers_its_jobs(
    submit_app: ModuleType, batch_env: BatchEnv, lambda_context: Any
) -> None:
    # GIVEN the cancel marks cannot be read once the spec was submitted
    submit_app.submitter._clock = lambda: 1000.0  # the next delivery comes within the reuse window
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
