"""The operator CLI's start command against moto: the run request checked, then put as a Run Requested
event."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import boto3
import pytest

from sls_contract.job_store import JobStore
from sls_contract.run_request import EVENT_SOURCE, RUN_REQUESTED
from sls_contract.run_store import RunStore
from tests.support.cli import STACK, add_job, cli


@pytest.fixture
def requested_events(aws: None) -> str:
    """An EventBridge rule like the stack's RunRequested trigger, delivering to an SQS queue."""
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="run-requests")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = boto3.client("events")
    events.put_rule(
        Name="run-requested",
        EventPattern=json.dumps({"source": [EVENT_SOURCE], "detail-type": [RUN_REQUESTED]}),
    )
    events.put_targets(Rule="run-requested", Targets=[{"Id": "queue", "Arn": arn}])
    return url


def received(url: str) -> list[dict[str, Any]]:
    messages = boto3.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def test_start_puts_the_request_with_a_generated_run_id(
    stack: dict, requested_events: str, tmp_path: Path
) -> None:
    request = tmp_path / "request.yaml"
    request.write_text("storage_prefix: s3://bucket/run\ntargets: [all]\nconfig:\n  samples: 4\n")

    code, output = cli("start", str(request))

    assert code == 0
    run_id = re.fullmatch(r"requested run (\S+) \(event \S+\)", output.splitlines()[0]).group(1)
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{8}", run_id)  # the plugin's new_run_id format
    assert output.splitlines()[1] == f"follow it: aws-basic-batch-sls --stack {STACK} show {run_id}"
    [event] = received(requested_events)
    assert (event["source"], event["detail-type"]) == (EVENT_SOURCE, RUN_REQUESTED)
    assert event["detail"] == {
        "storage_prefix": "s3://bucket/run",
        "targets": ["all"],
        "config": {"samples": 4},
        "run_id": run_id,
    }


def test_start_with_a_run_id(stack: dict, requested_events: str, tmp_path: Path) -> None:
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"storage_prefix": "s3://bucket/run", "run_id": "from-file"}))

    assert cli("start", str(request))[0] == 0
    assert cli("start", str(request), "--run-id", "nightly-1")[0] == 0

    assert [event["detail"]["run_id"] for event in received(requested_events)] == ["from-file", "nightly-1"]


def test_start_rejects_a_bad_request_before_sending_anything(
    stack: dict, requested_events: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("storage_prefix: s3://bucket/run\njobs: 0\n")
    good = tmp_path / "good.yaml"
    good.write_text("storage_prefix: s3://bucket/run\n")
    typo = tmp_path / "typo.yaml"
    typo.write_text("storage_prefx: s3://bucket/run\n")
    broken = tmp_path / "broken.yaml"
    broken.write_text("targets: [a, b\njobs: 3\n")
    cases = {
        (str(bad),): "invalid run request bad.yaml: jobs: Input should be greater than or equal to 1",
        (str(good), "--run-id", "has space"): "--run-id 'has space': run_id: 'has space' is not allowed: "
        "1 to 80 letters, digits, '-' and '_'",
        (str(typo),): "invalid run request typo.yaml: storage_prefix: Field required; "
        "storage_prefx: unknown field (did you mean 'storage_prefix'?)",
        (str(broken),): "run request broken.yaml is neither JSON nor YAML: line 2, column 5: "
        "expected ',' or ']', but got ':'",
        (
            str(tmp_path / "missing.yaml"),
        ): f"cannot read {tmp_path / 'missing.yaml'}: No such file or directory",
    }
    for args, message in cases.items():
        assert cli("start", *args) == (2, "")
        assert capsys.readouterr().err == f"aws-basic-batch-sls: {message}\n"
    assert received(requested_events) == []


def test_start_with_the_id_of_an_existing_run_says_so_and_sends_nothing(
    stack: dict, runs: RunStore, jobs: JobStore, requested_events: str, tmp_path: Path, capsys
) -> None:
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"storage_prefix": "s3://bucket/run"}))
    runs.create("nightly-1", "schedule", None)
    add_job(jobs, "laptop-run", "job-00000001", "map")  # a run snakemake started: jobs, no run record

    assert cli("start", str(request), "--run-id", "nightly-1")[0] == 2
    assert (
        "run 'nightly-1' already exists (REQUESTED): a run id starts one run only" in capsys.readouterr().err
    )
    assert cli("start", str(request), "--run-id", "laptop-run")[0] == 2
    assert "run 'laptop-run' already exists:" in capsys.readouterr().err
    assert received(requested_events) == []
