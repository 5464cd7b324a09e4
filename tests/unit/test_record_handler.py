"""The real record handler: Batch state-change events (via SQS) -> monotonic job records, in any order."""

from __future__ import annotations

import copy
import itertools
import json
from types import ModuleType
from typing import Any

import pytest

from sls_contract.job_record import RUN_CONTROL_JOB_ID, JobRecord
from sls_contract.run_record import RunStatus
from sls_contract.run_store import RunStore
from sls_contract.status import JobStatus
from tests.support.aws_calls import error_response, on_call, record_calls
from tests.support.events import load_event, sqs_record, state_change, state_events
from tests.support.specs import minimal_spec, model

JOB_ID = "4c7599ae-0a82-49aa-ba5a-4727fcce14a8"
JOB_ARN = f"arn:aws:batch:us-east-1:123456789012:job/{JOB_ID}"
LOG_1 = "snakemake-job/default/8f2d1c0e7b6a4d5e9f1a2b3c4d5e6f70"
LOG_2 = "snakemake-job/default/0a1b2c3d4e5f60718293a4b5c6d7e8f9"
STARTED, STOPPED = 1767225662456, 1767225781789
STARTED_2, STOPPED_2 = 1767225800000, 1767225900000
FAILED_REASON = "Essential container in task exited: OutOfMemoryError: Container killed due to memory usage"


def deliver(app: ModuleType, context: Any, *events: dict[str, Any]) -> dict[str, Any]:
    return app.lambda_handler(state_events(*events), context)


def deliver_each(app: ModuleType, context: Any, *events: dict[str, Any]) -> list[dict[str, Any]]:
    """One delivery per event: events of a job within one delivery collapse to the latest, so order
    across deliveries is what exercises the table's conditional writes."""
    return [deliver(app, context, event) for event in events]


NO_FAILURES = {"batchItemFailures": []}


def record_of(app: ModuleType, run_id: str, job_id: str) -> JobRecord | None:
    return app.store.get_records(run_id, [job_id]).get(job_id)


def lifecycle(run_id: str, job_id: str) -> dict[str, dict[str, Any]]:
    names = ("runnable", "starting", "running", "succeeded", "failed")
    return {name: state_change(f"batch_job_{name}", run_id, job_id) for name in names}


def retry_lifecycle(run_id: str, job_id: str) -> dict[str, dict[str, Any]]:
    """Attempt 1 runs and fails (exit 1), Batch re-queues the job, attempt 2 runs and succeeds."""
    first = lifecycle(run_id, job_id)
    attempt_1 = load_event("batch_job_retry_runnable")["detail"]["attempts"][0]
    attempt_2 = {
        "container": {"taskArn": "task-2", "exitCode": 0, "logStreamName": LOG_2, "networkInterfaces": []},
        "startedAt": STARTED_2,
        "stoppedAt": STOPPED_2,
        "statusReason": "Essential container in task exited",
    }
    running_2 = copy.deepcopy(first["running"])
    running_2["id"] = "running-attempt-2"
    running_2["detail"].update(attempts=[attempt_1], startedAt=STARTED_2)
    running_2["detail"]["container"].update(taskArn="task-2", logStreamName=LOG_2)
    succeeded_2 = copy.deepcopy(first["succeeded"])
    succeeded_2["id"] = "succeeded-attempt-2"
    succeeded_2["detail"].update(attempts=[attempt_1, attempt_2], startedAt=STARTED_2, stoppedAt=STOPPED_2)
    succeeded_2["detail"]["container"].update(taskArn="task-2", logStreamName=LOG_2, exitCode=0)
    return {
        "runnable": first["runnable"],
        "running": first["running"],
        "retry_runnable": state_change("batch_job_retry_runnable", run_id, job_id),
        "running_2": running_2,
        "succeeded_2": succeeded_2,
    }


def assert_succeeded(record: JobRecord | None, scenario: str) -> None:
    assert record is not None, scenario
    assert (
        record.status,
        record.progress,
        record.exit_code,
        record.attempts,
        record.log_stream,
        record.log_group,
        record.started_at,
        record.stopped_at,
        record.batch_job_id,
        record.job_arn,
        record.status_reason,
    ) == (
        JobStatus.SUCCEEDED,
        19,
        0,
        1,
        LOG_1,
        "/aws/batch/job",
        STARTED,
        STOPPED,
        JOB_ID,
        JOB_ARN,
        "Essential container in task exited",
    ), scenario


def test_every_order_with_duplicates_and_no_submit_record_ends_succeeded(
    record_app: ModuleType, lambda_context: Any
) -> None:
    for index, order in enumerate(itertools.permutations(("runnable", "starting", "running", "succeeded"))):
        # GIVEN no record yet (the events beat the submit function's write), WHEN the events arrive in
        # this order, each one twice (at-least-once delivery)
        job_id = f"job-order-{index:02d}"
        events = lifecycle("run-1", job_id)
        sequence = [events[name] for name in order]
        responses = deliver_each(record_app, lambda_context, *sequence, *reversed(sequence))

        # THEN the record holds the final state with everything the events told
        assert responses == [NO_FAILURES] * 8
        assert_succeeded(record_of(record_app, "run-1", job_id), f"order {order}")
        # AND a late redelivery of the spec can no longer claim it (Batch already has the job)
        assert record_app.store.claim(model(minimal_spec(job_id=job_id)), "late", 0) is False


def interleavings() -> list[tuple[tuple[str, ...], int]]:
    """(event order, events before mark_submitted): every order, with the split cycling through all
    five positions, plus every split for the in-order and the reversed sequence. (moto's UpdateItem
    costs ~30 ms, so the full 24 x 5 product would dominate the suite's run time.)"""
    orders = list(itertools.permutations(("runnable", "starting", "running", "succeeded")))
    cases = [(order, index % 5) for index, order in enumerate(orders)]
    cases += [(order, split) for order in (orders[0], orders[-1]) for split in range(5)]
    return cases


def test_every_order_with_the_submit_functions_writes_interleaved(
    record_app: ModuleType, lambda_context: Any
) -> None:
    for index, (order, split) in enumerate(interleavings()):
        # GIVEN the submit function claimed the spec and called SubmitJob
        job_id = f"job-mixed-{index:03d}"
        spec = model(minimal_spec(job_id=job_id))
        assert record_app.store.claim(spec, "token", 300)
        events = lifecycle("run-1", job_id)
        sequence = [events[name] for name in order]

        # WHEN its mark_submitted lands after `split` of the events
        deliver_each(record_app, lambda_context, *sequence[:split])
        record_app.store.mark_submitted(spec, JOB_ID, JOB_ARN)
        deliver_each(record_app, lambda_context, *sequence[split:], sequence[0])

        # THEN the events' final state stands, beside what only the submit function knows
        record = record_of(record_app, "run-1", job_id)
        scenario = f"order {order}, mark_submitted after {split}"
        assert_succeeded(record, scenario)
        assert (record.rule, record.workflow, record.job_queue, record.claim_token) == (
            "bwa_map",
            "rna-seq",
            "test-queue",
            "token",
        ), scenario
        assert record.submitted_at is not None, scenario


def test_failed_reason_and_exit_code_are_carried_in_every_order(
    record_app: ModuleType, lambda_context: Any
) -> None:
    for index, order in enumerate(itertools.permutations(("runnable", "running", "failed"))):
        job_id = f"job-failed-{index}"
        events = lifecycle("run-1", job_id)

        responses = deliver_each(record_app, lambda_context, *(events[name] for name in order))
        assert responses == [NO_FAILURES] * len(order)

        record = record_of(record_app, "run-1", job_id)
        assert (
            record.status,
            record.status_reason,
            record.exit_code,
            record.attempts,
            record.stopped_at,
        ) == (
            JobStatus.FAILED,
            FAILED_REASON,
            137,
            1,
            STOPPED,
        ), order


def test_a_late_running_after_succeeded_is_a_no_op(record_app: ModuleType, lambda_context: Any) -> None:
    events = lifecycle("run-1", "job-00000001")
    deliver(record_app, lambda_context, events["succeeded"])
    before = record_of(record_app, "run-1", "job-00000001")

    assert deliver_each(record_app, lambda_context, events["running"], events["failed"]) == [NO_FAILURES] * 2

    assert record_of(record_app, "run-1", "job-00000001") == before


def test_a_retried_job_lands_on_its_final_attempt_in_every_order(
    record_app: ModuleType, lambda_context: Any
) -> None:
    names = ("running", "retry_runnable", "running_2", "succeeded_2")
    for index, order in enumerate(itertools.permutations(names)):
        job_id = f"job-retry-{index:03d}"
        events = retry_lifecycle("run-1", job_id)

        responses = deliver_each(record_app, lambda_context, *(events[name] for name in order))
        assert responses == [NO_FAILURES] * len(order)

        record = record_of(record_app, "run-1", job_id)
        assert (
            record.status,
            record.progress,
            record.attempts,
            record.exit_code,
            record.log_stream,
            record.started_at,
            record.stopped_at,
        ) == (JobStatus.SUCCEEDED, 29, 2, 0, LOG_2, STARTED_2, STOPPED_2), order


def test_the_retry_runnable_after_the_first_running_moves_the_record_on(
    record_app: ModuleType, lambda_context: Any
) -> None:
    events = retry_lifecycle("run-1", "job-00000001")
    deliver(record_app, lambda_context, events["running"])

    deliver(record_app, lambda_context, events["retry_runnable"])

    record = record_of(record_app, "run-1", "job-00000001")
    assert (record.status, record.progress, record.attempts) == (JobStatus.RUNNABLE, 13, 1)


def test_events_of_foreign_jobs_are_ignored(
    record_app: ModuleType, lambda_context: Any, dynamodb: Any
) -> None:
    foreign = load_event("batch_job_running")
    foreign["detail"]["container"]["environment"] = [{"name": "OTHER", "value": "x"}]
    no_container = load_event("batch_job_running")
    del no_container["detail"]["container"]

    response = deliver(record_app, lambda_context, foreign, no_container)

    assert response == {"batchItemFailures": []}
    assert dynamodb.scan(TableName=record_app.settings.jobs_table_name)["Items"] == []


def test_an_unreadable_event_of_ours_fails_the_job_with_the_reason(
    record_app: ModuleType, lambda_context: Any
) -> None:
    broken = state_change("batch_job_running", "run-1", "job-00000001", status="EXPLODED")
    del broken["detail"]["jobId"]

    assert deliver(record_app, lambda_context, broken) == {"batchItemFailures": []}

    record = record_of(record_app, "run-1", "job-00000001")
    assert (record.status, record.status_reason) == (
        JobStatus.FAILED,
        "unreadable Batch state-change event: detail.jobId: Field required; detail.status: Input should be "
        "'SUBMITTING', 'SUBMITTED', 'PENDING', 'RUNNABLE', 'STARTING', 'RUNNING', 'SUCCEEDED' or 'FAILED'",
    )


def test_a_malformed_sqs_record_does_not_break_the_others(
    record_app: ModuleType, lambda_context: Any
) -> None:
    # GIVEN a batch with a good event, a record without a body, a body that is not JSON, and another event
    events = lifecycle("run-1", "job-00000001")
    no_body = sqs_record("{}", "msg-no-body")
    del no_body["body"]
    not_json = sqs_record("not json at all", "msg-not-json")
    batch = state_events(events["running"])
    batch["Records"] += [no_body, not_json, sqs_record(json.dumps(events["succeeded"]), "msg-succeeded")]

    # WHEN the record function handles it
    response = record_app.lambda_handler(batch, lambda_context)

    # THEN only the broken record is reported for retry; the rest are applied
    assert response == {"batchItemFailures": [{"itemIdentifier": "msg-no-body"}]}
    assert_succeeded(record_of(record_app, "run-1", "job-00000001"), "batch with a malformed record")


@pytest.mark.parametrize("name", ["sqs_batch_state_change"])
def test_the_sample_sqs_wrapped_event_is_recorded(
    record_app: ModuleType, lambda_context: Any, name: str
) -> None:
    assert record_app.lambda_handler(load_event(name), lambda_context) == {"batchItemFailures": []}

    assert_succeeded(record_of(record_app, "run-20260101T000000-3f9a", "j0001-a1b2c3d4e5f6"), name)


def test_a_jobs_events_in_one_delivery_cost_one_write(record_app: ModuleType, lambda_context: Any) -> None:
    # GIVEN two jobs' whole lifecycles in one delivery, shuffled, one event duplicated
    writes = record_calls(record_app.store.client, "UpdateItem")
    first, second = lifecycle("run-1", "job-00000001"), lifecycle("run-1", "job-00000002")
    batch = [
        first["running"],
        second["runnable"],
        first["succeeded"],
        first["runnable"],
        second["failed"],
        second["running"],
        first["succeeded"],
    ]

    # WHEN the record function handles it
    assert deliver(record_app, lambda_context, *batch) == NO_FAILURES

    # THEN each job's record took one write, from the event furthest along, and holds all it says
    assert sorted(w["Key"]["job_id"]["S"] for w in writes) == ["job-00000001", "job-00000002"]
    assert_succeeded(record_of(record_app, "run-1", "job-00000001"), "collapsed delivery")
    assert record_of(record_app, "run-1", "job-00000002").status == JobStatus.FAILED


def test_when_the_latest_events_write_fails_only_it_is_retried_and_it_carries_the_rest(
    record_app: ModuleType, lambda_context: Any
) -> None:
    # GIVEN a job's events in one delivery, and DynamoDB throttling writes (beyond botocore's retries)
    events = lifecycle("run-1", "job-00000001")
    throttled = [True]
    on_call(
        record_app.store.client,
        "UpdateItem",
        lambda _body: (
            error_response(
                "ProvisionedThroughputExceededException",
                "Rate of requests exceeds the allowed throughput.",
                400,
            )
            if throttled[0]
            else None
        ),
    )
    batch = state_events(events["runnable"], events["succeeded"], events["running"])
    winner = batch["Records"][1]["messageId"]

    # WHEN the record function handles it
    response = record_app.lambda_handler(batch, lambda_context)

    # THEN only the latest event's message goes back to the queue (the others said nothing more)
    assert response == {"batchItemFailures": [{"itemIdentifier": winner}]}
    assert record_of(record_app, "run-1", "job-00000001") is None

    # AND its redelivery alone, once DynamoDB accepts writes again, makes the record whole
    throttled[0] = False
    assert record_app.lambda_handler({"Records": [batch["Records"][1]]}, lambda_context) == NO_FAILURES
    assert_succeeded(record_of(record_app, "run-1", "job-00000001"), "retried latest event")


def test_an_event_whose_job_id_names_the_runs_control_item_writes_nothing(
    record_app: ModuleType, lambda_context: Any, dynamodb: Any
) -> None:
    # GIVEN a running run whose control item holds its status
    runs = RunStore(dynamodb, record_app.settings.jobs_table_name)
    runs.create("run-1", "schedule", None)
    runs.start("run-1", "arn:aws:states:us-east-1:123456789012:execution:m:run-1", "schedule", {})
    injected = state_change("batch_job_failed", "run-1", RUN_CONTROL_JOB_ID)
    unreadable = state_change("batch_job_failed", "run-1", RUN_CONTROL_JOB_ID, status="EXPLODED")

    # WHEN events name the control item's key as their job id (readable or not)
    assert deliver(record_app, lambda_context, injected, unreadable) == {"batchItemFailures": []}

    # THEN they are not this stack's jobs: the run is untouched and no job record appears
    assert runs.get("run-1").status == RunStatus.RUNNING
    assert len(dynamodb.scan(TableName=record_app.settings.jobs_table_name)["Items"]) == 1


def test_only_this_stacks_jobs_are_recorded(
    record_app: ModuleType, lambda_context: Any, dynamodb: Any
) -> None:
    # GIVEN events of jobs another stack (its own jobs table) submitted to a queue this stack watches
    other = state_change("batch_job_running", "run-1", "job-00000001")
    unreadable = state_change("batch_job_running", "run-1", "job-00000002", status="EXPLODED")
    for event in (other, unreadable):
        for entry in event["detail"]["container"]["environment"]:
            if entry["name"] == "SLS_TABLE":
                entry["value"] = "another-stacks-jobs-table"

    assert deliver(record_app, lambda_context, other, unreadable) == {"batchItemFailures": []}

    # THEN nothing is written here (a cancel here can then never reach that stack's jobs)
    assert dynamodb.scan(TableName=record_app.settings.jobs_table_name)["Items"] == []
