"""Scenario: malformed, oversized, deeply nested and key-injecting inputs at every boundary."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localcloud.cloud import LocalCloud
from sls_contract import stack_outputs
from sls_contract.job_record import JOB_ID_ENV, RUN_CONTROL_JOB_ID, RUN_ID_ENV, TABLE_ENV
from sls_contract.job_store import JobStore
from sls_contract.run_record import RunStatus
from sls_contract.run_store import RunStore
from sls_contract.submitter import UNPARSEABLE_RUN_ID
from snakemake_executor_plugin_aws_basic_batch_sls.sender import sqs_batches

from .cloud import chaos_cloud
from .events_replay import envelope, events_queue_url
from .outcome import Outcome

NESTING = 100_000  # far past any JSON parser's recursion limit, still under SQS's 256 KiB


@dataclass
class Sent:
    kind: str
    # where its FAILED record is expected; None: under (_unparseable, message id); (): none at all
    keys: tuple[str, str] | tuple[()] | None
    message_id: str = ""


def _spec(cloud: LocalCloud, run_id: str, job_id: str, **fields: Any) -> dict[str, Any]:
    outputs = cloud.deployment.outputs
    return {
        "run_id": run_id, "job_id": job_id, "workflow": "chaos", "rule": "work", "snakemake_jobid": 1,
        "job_name": f"chaos-{job_id}", "job_queue": outputs[stack_outputs.JOB_QUEUE_ARN],
        "job_definition": outputs[stack_outputs.JOB_DEFINITION_ARN], "command": ["true"], **fields,
    }  # fmt: skip


def _nested(key: str, depth: int = NESTING) -> str:
    return '{"' + key + '": ' + "[" * depth + "]" * depth + "}"


def spec_inputs(cloud: LocalCloud, run_id: str, live_run: str, count: int) -> list[tuple[str, Sent]]:
    """(body, expectation) for bad specs, `count` of each kind."""
    kinds: dict[str, Callable[[int], tuple[str, tuple[str, str] | None]]] = {
        "spec: not JSON": lambda i: (f"{{not json {i}", None),
        "spec: required fields missing": lambda i: (
            json.dumps({"run_id": run_id, "job_id": f"missing-{i}"}),
            (run_id, f"missing-{i}"),
        ),
        "spec: invalid values": lambda i: (
            json.dumps(_spec(cloud, run_id, f"invalid-{i}", vcpu=-1, retry_strategy={"attempts": 99})),
            (run_id, f"invalid-{i}"),
        ),
        "spec: SubmitJob payload over 30 KiB": lambda i: (
            json.dumps(_spec(cloud, run_id, f"oversized-{i}", command=["python", "-c", "x" * 40_000])),
            (run_id, f"oversized-{i}"),
        ),
        "spec: nested 100,000 deep": lambda i: (_nested("rule")[:-1] + f', "run_id": "{run_id}"}}', None),
        "spec: job id '#run' (the run's control item)": lambda i: (
            json.dumps(_spec(cloud, live_run, RUN_CONTROL_JOB_ID, job_name=f"inject-{i}")),
            None,
        ),
    }
    return [(make(i)[0], Sent(kind, make(i)[1])) for kind, make in kinds.items() for i in range(count)]


def _event(table: str, run_id: str, job_id: str, **detail: Any) -> str:
    environment = [
        {"name": RUN_ID_ENV, "value": run_id},
        {"name": JOB_ID_ENV, "value": job_id},
        {"name": TABLE_ENV, "value": table},
    ]
    job_id = str(uuid.uuid4())
    return envelope(
        {
            "jobId": job_id,
            "jobArn": f"arn:aws:batch:us-east-1:123456789012:job/{job_id}",
            "container": {"environment": environment},
            **detail,
        }
    )


def event_inputs(table: str, run_id: str, live_run: str, count: int) -> list[tuple[str, Sent]]:
    out = []
    for i in range(count):
        out.append(
            (
                _event(table, run_id, f"unreadable-{i}", status="NOT_A_STATUS"),
                Sent("event: unreadable", (run_id, f"unreadable-{i}")),
            )
        )
        # Names the run's control item: must change nothing (checked on the live run below), record nothing.
        out.append(
            (
                _event(table, live_run, RUN_CONTROL_JOB_ID, status="FAILED", jobName="x"),
                Sent("event: job id '#run'", ()),
            )
        )
        out.append((_nested("detail"), Sent("event: nested 100,000 deep", ())))
    return out  # fmt: skip


def _send(cloud: LocalCloud, url: str, items: list[tuple[str, Sent]]) -> None:
    sqs = cloud.client("sqs")
    for chunk in sqs_batches([(sent, body) for body, sent in items]):
        response = sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": body} for i, (_, body) in enumerate(chunk)]
        )
        for entry in response.get("Successful", []):
            chunk[int(entry["Id"])][0].message_id = entry["MessageId"]
        if response.get("Failed"):
            raise RuntimeError(f"SendMessageBatch refused {response['Failed']}")


def run_request_inputs(cloud: LocalCloud, count: int) -> dict[str, str]:
    """Bad run requests by event and by upload; returns {trigger: kind} (a run record's `trigger`)."""
    outputs = cloud.deployment.outputs
    bucket, prefix = outputs[stack_outputs.RUNS_BUCKET], outputs[stack_outputs.RUN_REQUEST_PREFIX]
    uploads = {
        "run request upload: not UTF-8": b"\xc3\x28snakefile: \x80Snakefile\n",
        "run request upload: over 128 KiB": json.dumps({"snakefile": "S", "config": {"x": "y" * 200_000}}).encode(),
        "run request upload: nested 50,000 deep": _nested("config", 50_000).encode(),
    }  # fmt: skip
    s3, events = cloud.client("s3"), cloud.client("events")
    triggers: dict[str, str] = {}
    for i in range(count):
        kind = list(uploads)[i % len(uploads)]
        key = f"{prefix}chaos-{i}.json"
        s3.put_object(Bucket=bucket, Key=key, Body=uploads[kind])
        triggers[f"s3://{bucket}/{key}"] = kind
        detail = {"run_id": f"chaos-badreq-{i}", "snakefile": "Snakefile", "storage_prefx": "s3://b/p"}
        response = events.put_events(
            Entries=[
                {"Source": "aws-basic-batch-sls", "DetailType": "Run Requested", "Detail": json.dumps(detail)}
            ]
        )
        triggers[f"event:{response['Entries'][0]['EventId']}"] = "run request event: unknown field"
    return triggers


def _run_records(cloud: LocalCloud) -> dict[str, dict[str, Any]]:
    """trigger -> run record item (a scan: fine for a test table)."""
    table = cloud.deployment.outputs[stack_outputs.JOBS_TABLE_NAME]
    paginator = cloud.client("dynamodb").get_paginator("scan")
    found = {}
    for page in paginator.paginate(
        TableName=table,
        FilterExpression="job_id = :run",
        ExpressionAttributeValues={":run": {"S": RUN_CONTROL_JOB_ID}},
    ):
        for item in page["Items"]:
            if "trigger" in item:
                found[item["trigger"]["S"]] = item
    return found


def _missing(store: JobStore, sent: list[Sent]) -> list[Sent]:
    """The inputs whose FAILED record with a reason is not there (yet)."""
    missing = []
    for s in sent:
        if s.keys == ():  # nothing to record: only "no crash, no change" applies
            continue
        keys = s.keys or (UNPARSEABLE_RUN_ID, s.message_id)
        record = store.get_records(keys[0], [keys[1]]).get(keys[1])
        if record is None or record.status != "FAILED" or not record.status_reason:
            missing.append(s)
    return missing


def _dead_letters(cloud: LocalCloud) -> int:
    sqs = cloud.client("sqs")
    total = 0
    for url in sqs.list_queues().get("QueueUrls", []):
        if "DeadLetter" in url:
            attributes = sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
            )
            total += int(attributes["Attributes"]["ApproximateNumberOfMessages"])
    return total


def _crashes(cloud: LocalCloud) -> int:
    """Handler invocations that raised (the Lambda workers' logs) and records handed back for retry."""
    logs = sum(p.read_text(errors="replace").count("invocation failed") for p in cloud.workdir.rglob("*.log"))
    return logs + sum(int(s.get("failed_records", 0)) for s in cloud.lambdas.stats().values())


def bad_inputs(n: int, workdir: Path) -> Outcome:
    run_id, live_run = f"chaos-bad-{uuid.uuid4().hex[:6]}", f"chaos-live-{uuid.uuid4().hex[:6]}"
    with chaos_cloud(0.2, on_simulated_success=lambda job: None) as cloud:
        outputs = cloud.deployment.outputs
        table = outputs[stack_outputs.JOBS_TABLE_NAME]
        dynamodb = cloud.client("dynamodb")
        runs, store = RunStore(dynamodb, table), JobStore(dynamodb, table)
        runs.create(live_run, "chaos", None)
        runs.start(live_run, f"arn:aws:states:us-east-1:123456789012:execution:chaos:{live_run}", "chaos", {})
        requests = max(3, n // 50)
        per_kind = max(1, (n - 2 * requests) // 9)
        specs = spec_inputs(cloud, run_id, live_run, per_kind)
        events = event_inputs(table, run_id, live_run, per_kind)
        started = time.monotonic()
        _send(cloud, outputs[stack_outputs.JOBS_QUEUE_URL], specs)
        _send(cloud, events_queue_url(cloud), events)
        triggers = run_request_inputs(cloud, requests)
        sent = [s for _, s in specs + events]
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            missing, records = _missing(store, sent), _run_records(cloud)
            requests_missing = [
                t for t in triggers if records.get(t, {}).get("status", {}).get("S") != "FAILED"
            ]
            if not missing and not requests_missing:
                break
            time.sleep(2)
        handled_in = time.monotonic() - started
        live = runs.get(live_run)
        crashes, dead = _crashes(cloud), _dead_letters(cloud)
        batch_jobs = len(cloud.batch.engine.records)
    reasons = [records[t].get("cause", {}).get("S", "") for t in triggers if t in records]
    kinds = sorted({s.kind for s in sent} | set(triggers.values()))
    figures = {
        "inputs": f"{len(sent) + len(triggers):,} ({len(kinds)} kinds: {'; '.join(kinds)})",
        "job/event inputs without their FAILED record and reason": len(missing),
        "run requests without a FAILED run record and cause": len(requests_missing),
        "run request causes, e.g.": "; ".join(sorted(set(reasons))[:4]) or "-",
        "handler crashes or records handed back": crashes,
        "messages in dead-letter queues": dead,
        "Batch jobs made": batch_jobs,
        "the run named by '#run' injections, afterwards": f"{live.status if live else None}",
        "time to handle all": f"{handled_in:.0f} s",
    }
    passed = (
        not missing
        and not requests_missing
        and crashes == 0
        and dead == 0
        and batch_jobs == 0
        and live is not None
        and live.status == RunStatus.RUNNING
        and all(reasons)
    )
    return Outcome(
        name="malformed, oversized, deeply nested and key-injecting inputs",
        fault="bad specs on the jobs queue, bad state-change events on the events queue, bad run requests by "
        "event and by upload",
        target="a FAILED record with a readable reason for every input that names a job or run it may write "
        "(see below for the others), no handler crash, no dead letter, nothing submitted, no run changed",
        passed=passed,
        measured=f"{len(sent) + len(triggers) - len(missing) - len(requests_missing):,} of "
        f"{len(sent) + len(triggers):,} inputs handled as targeted; {crashes} crashes, {dead} dead letters, "
        f"{batch_jobs} Batch jobs; the injected run still {live.status if live else None}",
        figures=figures,
    )
