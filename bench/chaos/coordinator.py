"""Scenario: the coordinator (Snakemake inside Batch) killed mid-run while TerminateJobs is throttled."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

from botocore.config import Config

from localcloud.cloud import DATA_BUCKET, LocalCloud
from sls_contract import stack_outputs
from sls_contract.run_record import COORDINATOR_JOB_ID, RunStatus
from sls_contract.run_store import RunStore

from .batch_side import BatchJob, batch_jobs, poll
from .cloud import chaos_cloud
from .outcome import Outcome

TERMINATE_THROTTLE_RATE = 0.5


def _request_run(cloud: LocalCloud, run_id: str, n: int) -> None:
    request = {
        "run_id": run_id, "snakefile": "Snakefile", "storage_prefix": f"s3://{DATA_BUCKET}/{run_id}",
        "jobs": n, "config": {"fanout": n},
    }  # fmt: skip
    cloud.client("events").put_events(
        Entries=[
            {"Source": "aws-basic-batch-sls", "DetailType": "Run Requested", "Detail": json.dumps(request)}
        ]
    )


def _execution_status(cloud: LocalCloud, run_id: str) -> str | None:
    machine = cloud.deployment.outputs[stack_outputs.COORDINATOR_STATE_MACHINE_ARN]
    executions = cloud.client("stepfunctions").list_executions(stateMachineArn=machine)["executions"]
    return next((e["status"] for e in executions if e["name"] == run_id), None)


def _rule_jobs(jobs: list[BatchJob]) -> list[BatchJob]:
    return [j for j in jobs if j.spec_job_id != COORDINATOR_JOB_ID]


def coordinator_killed(n: int, workdir: Path) -> Outcome:
    run_id = f"chaos-coord-{uuid.uuid4().hex[:6]}"
    # Rule jobs simulated (long enough to be running when the coordinator dies); the coordinator is real.
    knobs: dict[str, Any] = {
        "real_jobs": ("snakemake-coordinator-*",),
        "terminate_throttle_rate": TERMINATE_THROTTLE_RATE,
    }
    with chaos_cloud(600.0, **knobs) as cloud:
        runs = RunStore(cloud.client("dynamodb"), cloud.deployment.outputs[stack_outputs.JOBS_TABLE_NAME])
        _request_run(cloud, run_id, n)
        running = poll(
            lambda: sum(j.status == "RUNNING" for j in _rule_jobs(batch_jobs(cloud, run_id))) >= n // 2, 900
        )
        jobs = batch_jobs(cloud, run_id)
        at_kill = sum(j.status == "RUNNING" for j in _rule_jobs(jobs))
        coordinator = next((j for j in jobs if j.spec_job_id == COORDINATOR_JOB_ID), None)
        batch = cloud.session().client(
            "batch", endpoint_url=cloud.endpoint_url("batch"), config=Config(retries={"max_attempts": 20})
        )
        killed_at = time.monotonic()
        if coordinator is not None:
            batch.terminate_job(jobId=coordinator.job_id, reason="killed by the chaos suite")
        run = poll(
            lambda: r if (r := runs.get(run_id)) is not None and r.status == RunStatus.FAILED else None, 600
        )
        run_failed_in = time.monotonic() - killed_at
        settled = poll(lambda: not any(j.active for j in batch_jobs(cloud, run_id)), 600)
        settled_in = time.monotonic() - killed_at
        # The clean-up is over when the execution is: its retries must not outlive this cloud.
        execution = poll(lambda: _execution_status(cloud, run_id) not in (None, "RUNNING"), 300)
        jobs = batch_jobs(cloud, run_id)
        throttled = cloud.batch.gate.terminate_throttled
        execution_status = _execution_status(cloud, run_id)
    active = [j for j in jobs if j.active]
    figures = {
        "rule jobs RUNNING when the coordinator was killed": f"{at_kill:,} (of {len(_rule_jobs(jobs)):,} in Batch, {n:,} planned)",
        "run status": run.status if run else "not FAILED within 600 s",
        "run cause": (run.cause or "")[:160] if run else "-",
        "run FAILED after the kill": f"{run_failed_in:.1f} s",
        "TerminateJob(s) calls throttled (429)": throttled,
        "Batch jobs active afterwards": len(active),
        "no job active after the kill": f"{settled_in:.1f} s" if settled else "not within 600 s",
        "state machine execution, at the end": execution_status,
    }  # fmt: skip
    return Outcome(
        name="coordinator killed mid-run, TerminateJobs throttled",
        fault=f"TerminateJob on the coordinator's Batch job with {at_kill:,} rule jobs RUNNING; "
        f"{TERMINATE_THROTTLE_RATE:.0%} of TerminateJob(s) calls refused with HTTP 429 throughout the clean-up",
        target="run FAILED, 0 jobs left running",
        passed=bool(running)
        and run is not None
        and bool(settled)
        and bool(execution)
        and not active
        and throttled > 0,
        measured=f"run {run.status if run else 'not FAILED'} {run_failed_in:.0f} s after the kill; {len(active)} Batch jobs "
        f"active {settled_in:.0f} s after it, through {throttled} throttled terminate calls",
        figures=figures,
    )
