"""Scenario: every job's real event sequence, permuted and duplicated, fed to the record function."""

from __future__ import annotations

import json
import random
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.config import Config

from localcloud.cloud import LocalCloud
from localcloud.endpoint import REGION
from sls_contract import stack_outputs
from sls_contract.job_record import JOB_ID_ENV, RUN_ID_ENV, TABLE_ENV
from sls_contract.job_store import JobStore
from snakemake_executor_plugin_aws_basic_batch_sls.sender import sqs_batches

from .batch_side import batch_jobs, poll
from .cloud import chaos_cloud
from .outcome import Outcome

# Which jobs fail: the first attempt of 30% (then succeed on the retry), every attempt of 10%.
BEHAVIOUR = [
    {"pattern": "perm-retry-*", "fail": 1, "attempts": [1]},
    {"pattern": "perm-fail-*", "fail": 3},
]


def _kind(i: int) -> str:
    return "retry" if i % 10 < 3 else "fail" if i % 10 == 3 else "ok"


def submit_jobs(cloud: LocalCloud, n: int, run_id: str) -> None:
    """N jobs straight to Batch, addressed to this stack's table as the submit function would."""
    outputs = cloud.deployment.outputs
    batch = cloud.session().client(
        "batch", endpoint_url=cloud.endpoint_url("batch"),
        config=Config(retries={"mode": "standard", "max_attempts": 20}),  # the 50 TPS quota
    )  # fmt: skip
    for i in range(n):
        environment = {
            RUN_ID_ENV: run_id,
            JOB_ID_ENV: f"job-{i:05d}",
            TABLE_ENV: outputs[stack_outputs.JOBS_TABLE_NAME],
        }
        batch.submit_job(
            jobName=f"perm-{_kind(i)}-{i}",
            jobQueue=outputs[stack_outputs.JOB_QUEUE_ARN],
            jobDefinition=outputs[stack_outputs.JOB_DEFINITION_ARN],
            retryStrategy={"attempts": 2},
            containerOverrides={
                "command": ["true"],
                "environment": [{"name": k, "value": v} for k, v in environment.items()],
            },
        )


def envelope(detail: dict[str, Any]) -> str:
    """The message body the record function reads: EventBridge's event, as its SQS target delivers it."""
    return json.dumps(
        {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Batch Job State Change",
            "source": "aws.batch",
            "account": "123456789012",
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": REGION,
            "resources": [detail["jobArn"]],
            "detail": detail,
        }
    )


def events_queue_url(cloud: LocalCloud) -> str:
    """The queue the record function reads (its event source mapping)."""
    lam, sqs = cloud.client("lambda"), cloud.client("sqs")
    for mapping in lam.list_event_source_mappings()["EventSourceMappings"]:
        name = mapping["EventSourceArn"].rsplit(":", 1)[1]
        if "StateEvents" in name:
            return str(sqs.get_queue_url(QueueName=name)["QueueUrl"])
    raise LookupError("no event source mapping reads a StateEvents queue")


def _send_all(cloud: LocalCloud, url: str, bodies: list[str]) -> None:
    sqs = cloud.client("sqs")
    for chunk in sqs_batches([(None, body) for body in bodies]):
        response = sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": body} for i, (_, body) in enumerate(chunk)]
        )
        if response.get("Failed"):
            raise RuntimeError(f"SendMessageBatch refused {response['Failed']}")


def _wrong(store: JobStore, run_id: str, final: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Job id -> what its record holds that differs from Batch's final word (missing records included)."""
    records = {r.job_id: r for r in store.run_jobs(run_id)}
    wrong = {}
    for job_id, detail in final.items():
        record = records.get(job_id)
        want = (
            detail["status"],
            len(detail.get("attempts", [])),
            detail.get("container", {}).get("exitCode"),
        )
        have = (record.status, record.attempts, record.exit_code) if record else None
        if have != want:
            wrong[job_id] = f"record {have}, Batch {want}"
    return wrong


def event_permutations(n: int, workdir: Path) -> Outcome:
    seen: list[dict[str, Any]] = []
    run_id = f"chaos-perm-{uuid.uuid4().hex[:6]}"
    rng = random.Random(7)
    knobs: dict[str, Any] = {"event_drop_rate": 1.0, "on_event": seen.append, "job_behaviour": BEHAVIOUR}
    with chaos_cloud(0.2, on_simulated_success=lambda job: None, **knobs) as cloud:
        submit_jobs(cloud, n, run_id)
        poll(lambda: sum(not j.active for j in batch_jobs(cloud, run_id)) >= n, 600)
        # Batch's own word: each job's events in the order it emitted them (all dropped on the way).
        sequences: dict[str, list[dict[str, Any]]] = {}
        for detail in list(seen):
            env = {e["name"]: e["value"] for e in detail["container"]["environment"]}
            if env.get(RUN_ID_ENV) == run_id:
                sequences.setdefault(env[JOB_ID_ENV], []).append(detail)
        final = {job_id: events[-1] for job_id, events in sequences.items()}
        # Every job's sequence in a random order, each event 1-3 times, all jobs interleaved.
        bodies = [
            envelope(d)
            for events in sequences.values()
            for d in events
            for _ in range(rng.choice((1, 1, 2, 3)))
        ]
        rng.shuffle(bodies)
        started = time.monotonic()
        _send_all(cloud, events_queue_url(cloud), bodies)
        store = JobStore(cloud.client("dynamodb"), cloud.deployment.outputs[stack_outputs.JOBS_TABLE_NAME])
        deadline = time.monotonic() + 600
        while (wrong := _wrong(store, run_id, final)) and time.monotonic() < deadline:
            time.sleep(2)
        applied_in = time.monotonic() - started
    retried = sum(len(d.get("attempts", [])) > 1 for d in final.values())
    figures = {
        "jobs": f"{len(final):,} of {n:,}",
        "of which retried by Batch": retried,
        "FAILED in the end": sum(d["status"] == "FAILED" for d in final.values()),
        "events Batch emitted": f"{sum(len(s) for s in sequences.values()):,}",
        "messages delivered (permuted, with duplicates)": f"{len(bodies):,}",
        "records right (status, attempts, exit code)": f"{len(final) - len(wrong):,}",
        "records wrong": len(wrong),
        "examples of wrong": "; ".join(f"{k}: {v}" for k, v in list(wrong.items())[:3]) or "-",
        "time to apply": f"{applied_in:.0f} s",
    }
    return Outcome(
        name="each job's events in a random order, with duplicates",
        fault="every job's full event sequence from the local Batch (30% retried, 10% failing), shuffled and "
        "each event delivered 1-3 times, all jobs interleaved, straight onto the record function's queue",
        target="the stored final state is Batch's final state for every job",
        passed=len(final) == n and not wrong and retried > 0,
        measured=f"{len(final) - len(wrong):,} of {len(final):,} records right after {len(bodies):,} messages",
        figures=figures,
    )
