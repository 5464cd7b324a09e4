"""The handlers' metrics and correlation ids as they emit them: EMF lines and log lines from the real handlers."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import boto3
import pytest

from sls_contract import metric_names
from sls_contract.runs import run_id_of
from tests.support.events import sqs_event, sqs_record, state_change, state_events
from tests.support.handlers import load_handler, unload_handler
from tests.support.specs import minimal_spec


def emf(captured: str) -> dict[str, float | list[float]]:
    """Metric name -> value(s) from the EMF lines Powertools printed, checked for namespace and dimensions."""
    values: dict[str, Any] = {}
    for line in captured.splitlines():
        if '"_aws"' not in line:
            continue
        blob = json.loads(line)
        [directive] = blob["_aws"]["CloudWatchMetrics"]
        if directive["Namespace"] != "AwsBasicBatchSls":
            continue
        if any(m["Name"] == "ColdStart" for m in directive["Metrics"]):
            continue
        [dimensions] = directive["Dimensions"]
        assert sorted(dimensions) == sorted(["service", metric_names.STACK_DIMENSION])
        assert (blob["service"], blob[metric_names.STACK_DIMENSION]) == ("aws-basic-batch-sls", "test-stack")
        for metric in directive["Metrics"]:
            value = blob[metric["Name"]]
            values[metric["Name"]] = value[0] if isinstance(value, list) and len(value) == 1 else value
    return values


def log_lines(app: ModuleType) -> Any:
    import io

    out = io.StringIO()
    app.logger.registered_handler.setStream(out)
    return out


def test_a_submitted_spec_reports_its_latency_and_run(
    submit_app: ModuleType, batch_env: Any, lambda_context: Any, capsys: Any
) -> None:
    # GIVEN a spec SQS received two seconds ago
    spec = minimal_spec(job_queue=batch_env.job_queue, job_definition=batch_env.job_definition)
    record = sqs_record(json.dumps(spec), "msg-1")
    record["attributes"]["SentTimestamp"] = str(int((time.time() - 2) * 1000))
    logs = log_lines(submit_app)

    # WHEN it is submitted
    assert submit_app.lambda_handler(sqs_event(record), lambda_context) == {"batchItemFailures": []}

    # THEN the metrics say one submitted, about 2 s after it was sent; the log line names the run
    metrics = emf(capsys.readouterr().out)
    assert metrics[metric_names.SPEC_OUTCOMES["SUBMITTED"]] == 1
    assert 2000 <= metrics[metric_names.SUBMIT_LATENCY] < 60_000
    [line] = [json.loads(t) for t in logs.getvalue().splitlines() if "job spec handled" in t]
    assert line["correlation_id"] == spec["run_id"]


def test_a_recorded_end_reports_lag_and_a_finished_job(
    record_app: ModuleType, lambda_context: Any, capsys: Any
) -> None:
    # GIVEN a job's SUCCEEDED event that Batch emitted 3 seconds ago
    event = state_change("batch_job_succeeded", "run-7", "job-00000007")
    event["time"] = datetime.fromtimestamp(time.time() - 3, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    logs = log_lines(record_app)

    # WHEN it is recorded
    assert record_app.lambda_handler(state_events(event), lambda_context) == {"batchItemFailures": []}

    # THEN: one applied, one job succeeded, lag of about 3 s; the log line's correlation id is the run
    metrics = emf(capsys.readouterr().out)
    assert metrics[metric_names.EVENT_OUTCOMES["APPLIED"]] == 1
    assert metrics[metric_names.JOBS_FINISHED["SUCCEEDED"]] == 1
    assert 2000 <= metrics[metric_names.EVENT_TO_RECORD_LAG] < 60_000
    [line] = [json.loads(t) for t in logs.getvalue().splitlines() if "state change handled" in t]
    assert line["correlation_id"] == "run-7"


def test_a_duplicate_end_is_not_counted_twice(
    record_app: ModuleType, lambda_context: Any, capsys: Any
) -> None:
    event = state_change("batch_job_succeeded", "run-8", "job-00000008")
    record_app.lambda_handler(state_events(event), lambda_context)
    capsys.readouterr()

    record_app.lambda_handler(state_events({**event, "id": "again"}), lambda_context)

    metrics = emf(capsys.readouterr().out)
    assert metrics[metric_names.EVENT_OUTCOMES["STALE"]] == 1
    assert metric_names.JOBS_FINISHED["SUCCEEDED"] not in metrics
    assert metric_names.EVENT_TO_RECORD_LAG not in metrics


def test_a_sweep_reports_what_it_checked_even_when_nothing_was_lost(
    aws: None, jobs_table: str, batch_env: Any, lambda_context: Any, capsys: Any
) -> None:
    app = load_handler("reconcile")
    try:
        logs = log_lines(app)
        app.lambda_handler({"run_id": "run-9", "job_ids": ["job-00000009"]}, lambda_context)
    finally:
        unload_handler(app)

    metrics = emf(capsys.readouterr().out)
    assert {name: metrics[name] for name in ("JobsChecked", "JobsReconciled", "JobsLost")} == {
        "JobsChecked": 0,
        "JobsReconciled": 0,
        "JobsLost": 0,
    }
    [line] = [json.loads(t) for t in logs.getvalue().splitlines() if "reconciled" in t]
    assert line["correlation_id"] == "run-9"


def test_a_started_run_is_counted_and_its_log_line_names_it(
    aws: None, jobs_table: str, lambda_context: Any, capsys: Any, monkeypatch: Any
) -> None:
    sfn = boto3.client("stepfunctions")
    definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
    machine = sfn.create_state_machine(
        name="coordinator", definition=definition, roleArn="arn:aws:iam::123456789012:role/sfn"
    )["stateMachineArn"]
    monkeypatch.setenv("STATE_MACHINE_ARN", machine)
    app = load_handler("start_run")
    try:
        logs = log_lines(app)
        event = {"source": "aws-basic-batch-sls", "detail-type": "Run Requested", "id": "e-1"}
        event["detail"] = {"run_id": "run-10", "storage_prefix": "s3://data/run", "jobs": 5}
        outcome = app.lambda_handler(event, lambda_context)
    finally:
        unload_handler(app)

    assert outcome["started"] is True
    assert emf(capsys.readouterr().out)[metric_names.RUN_STARTED] == 1
    [line] = [json.loads(t) for t in logs.getvalue().splitlines() if "run trigger handled" in t]
    assert line["correlation_id"] == "run-10"


def test_a_finished_run_is_counted_once_by_its_status(
    aws: None, jobs_table: str, batch_env: Any, lambda_context: Any, capsys: Any
) -> None:
    app = load_handler("run_lifecycle")
    try:
        logs = log_lines(app)
        register = {
            "action": "register",
            "execution_arn": "arn:x:execution:m:run-11",
            "input": {"run_id": "run-11"},
        }
        register["input"]["request"] = {"storage_prefix": "s3://data/run", "jobs": 5}
        app.lambda_handler(register, lambda_context)
        capsys.readouterr()
        app.lambda_handler({"action": "succeeded", "run_id": "run-11"}, lambda_context)
    finally:
        unload_handler(app)

    assert emf(capsys.readouterr().out)[metric_names.RUN_FINISHED["SUCCEEDED"]] == 1
    lines = [json.loads(t) for t in logs.getvalue().splitlines() if "run lifecycle step" in t]
    assert [line["correlation_id"] for line in lines] == ["run-11", "run-11"]


@pytest.mark.parametrize(
    ("event", "run_id"),
    [
        ({"action": "register", "input": {"run_id": "r-1"}}, "r-1"),
        ({"action": "register", "input": {"request": {"run_id": "r-2"}}}, "r-2"),
        ({"action": "failed", "execution_arn": "arn:aws:states:us-east-1:1:execution:m:r-3"}, "r-3"),
        ({"detail-type": "Step Functions Execution Status Change", "detail": {"name": "r-4"}}, "r-4"),
        ({"action": "nonsense"}, None),
        ({}, None),
    ],
)
def test_the_lifecycle_events_run_id_for_log_correlation(event: dict[str, Any], run_id: str | None) -> None:
    assert run_id_of(event) == run_id
