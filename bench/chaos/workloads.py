"""Scenarios that run the benchmark's N-way fan-out through Snakemake with a fault turned on."""

from __future__ import annotations

import signal
import statistics
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from localcloud.batch.faults import plan_event
from localcloud.cloud import LocalCloud
from localcloud.interrupt import interruptible
from sls_contract import stack_outputs
from sls_contract.job_record import ISO_FORMAT, RUN_CONTROL_JOB_ID, item_key

from ..harness import RunResult, prepare_fanout, run_workload, wait_for_lambdas_idle
from .batch_side import batch_jobs, jobs_per_spec, wait_settled
from .cloud import chaos_cloud, until_struck
from .outcome import Outcome

if TYPE_CHECKING:
    from mypy_boto3_sqs.literals import QueueAttributeNameType

OURS = "aws-basic-batch-sls"


def _drop_timing(n: int) -> tuple[int, float]:
    """(reconcile after: the plugin's "no news for this long: ask the reconcile function", how long each
    job runs): at scale the benchmark's 30 s jobs; the smoke run keeps the same shape, shorter. A job whose
    final event is lost is noticed about (reconcile after - job time) + a status round + the reconcile call
    after it ended, so each job runs half the period: the other half is the target's headroom."""
    return (60, 30.0) if n >= 500 else (20, 10.0)


def _submit_deliveries(cloud: LocalCloud, result: RunResult) -> int:
    name = cloud.deployment.outputs[stack_outputs.SUBMIT_FUNCTION_NAME]
    return int(result.lambda_delta.get(name, {}).get("records", 0))


def _queue_depth(cloud: LocalCloud, url: str) -> int:
    names: list[QueueAttributeNameType] = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
    ]
    attributes = cloud.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return sum(int(attributes.get(name, 0)) for name in names)


def _once_each(n: int, result: RunResult, cloud: LocalCloud) -> tuple[bool, dict[str, Any]]:
    """Exactly one Batch job per Snakemake job, counted in Batch's own job list."""
    per_spec = jobs_per_spec(batch_jobs(cloud, result.run_id))
    figures = {
        "Snakemake exit": result.returncode,
        "Snakemake jobs in Batch": f"{len(per_spec):,} of {n:,}",
        "Batch jobs": f"{sum(per_spec.values()):,}",
        "most Batch jobs for one Snakemake job": max(per_spec.values(), default=0),
    }
    ok = result.returncode == 0 and len(per_spec) == n and set(per_spec.values()) == {1}
    return ok, figures


def _cancel_marked_at(cloud: LocalCloud, run_id: str) -> float | None:
    """When the run's cancel mark was written (epoch s), from its control item."""
    item = (
        cloud.client("dynamodb")
        .get_item(
            TableName=cloud.deployment.outputs[stack_outputs.JOBS_TABLE_NAME],
            Key=item_key(run_id, RUN_CONTROL_JOB_ID),
            ConsistentRead=True,
        )
        .get("Item", {})
    )
    at = item.get("cancel_requested_at", {}).get("S")
    return datetime.strptime(at, ISO_FORMAT).replace(tzinfo=UTC).timestamp() if at else None


def duplicate_delivery(n: int, workdir: Path) -> Outcome:
    with chaos_cloud(2.0, cloud={"jobs_queue_deliveries": 3}) as cloud:
        result = run_workload(cloud, OURS, n, workdir, simulated=True, prefix="chaos-dup")
        ok, figures = _once_each(n, result, cloud)
        deliveries = _submit_deliveries(cloud, result)
    figures["jobs-queue deliveries handled by the submit function"] = f"{deliveries:,}"
    return Outcome(
        name="every jobs-queue message delivered 3 times",
        fault="each spec message handled 3 times by the submit function, the copies concurrently by different workers",
        target="exactly one Batch job per Snakemake job",
        passed=ok and deliveries >= 3 * n,
        measured=f"{figures['Snakemake jobs in Batch']} Snakemake jobs in Batch as {figures['Batch jobs']} Batch jobs "
        f"after {deliveries:,} deliveries; Snakemake exit {result.returncode}",
        figures=figures,
    )


def throttled_submit(n: int, workdir: Path) -> Outcome:
    with chaos_cloud(2.0, submit_throttle_rate=0.3) as cloud:
        result = run_workload(cloud, OURS, n, workdir, simulated=True, prefix="chaos-throttle")
        ok, figures = _once_each(n, result, cloud)
        dlq = _queue_depth(cloud, cloud.deployment.outputs[stack_outputs.JOBS_DLQ_URL])
        throttled = cloud.batch.gate.submit_throttled
    figures.update({"SubmitJob calls throttled (429)": f"{throttled:,}", "jobs DLQ messages": dlq})
    return Outcome(
        name="30% of SubmitJob calls throttled",
        fault="30% of SubmitJob calls refused with TooManyRequestsException (HTTP 429), on top of the 50 TPS quota",
        target="every job submitted exactly once, jobs DLQ empty",
        passed=ok and dlq == 0 and throttled > 0,
        measured=f"{figures['Snakemake jobs in Batch']} Snakemake jobs in Batch as {figures['Batch jobs']} Batch jobs "
        f"after {throttled:,} throttled calls; jobs DLQ {dlq}; Snakemake exit {result.returncode}",
        figures=figures,
    )


def dropped_events(n: int, workdir: Path) -> Outcome:
    return until_struck(lambda seed: _dropped_events(n, workdir, seed))


def _dropped_events(n: int, workdir: Path, seed: int) -> tuple[Outcome, bool]:
    sweep, job_seconds = _drop_timing(n)
    env = {"SNAKEMAKE_AWS_BASIC_BATCH_SLS_RECONCILE_AFTER_SECONDS": str(sweep)}
    with chaos_cloud(job_seconds, seed=seed, event_drop_rate=0.1) as cloud:
        result = run_workload(cloud, OURS, n, workdir, simulated=True, prefix="chaos-drop", extra_env=env)
        jobs = batch_jobs(cloud, result.run_id)
        config = cloud.batch.config
    # Whose final event was dropped: the fault plan is deterministic per (seed, name, status, attempt).
    affected = {j.spec_job_id for j in jobs if plan_event(config, j.name, j.status, j.attempts).drop}
    waits = {
        job_id: noticed - result.terminal_at[job_id]
        for job_id, (noticed, _) in result.probe["noticed"].items()
        if job_id in result.terminal_at
    }
    affected_waits = sorted(waits[j] for j in affected if j in waits)
    longest = max(affected_waits, default=float("nan"))
    all_succeeded = sum(j.status == "SUCCEEDED" for j in jobs)
    figures = {
        "Snakemake exit": result.returncode,
        "jobs SUCCEEDED in Batch": f"{all_succeeded:,} of {n:,}",
        "jobs whose final event was dropped": len(affected),
        "of those, noticed by Snakemake": len(affected_waits),
        "their wait after Batch's final state, median / max": (
            f"{statistics.median(affected_waits):.1f} s / {longest:.1f} s" if affected_waits else "-"
        ),
        "every job's wait, max": f"{max(waits.values(), default=float('nan')):.1f} s",
        "sweep period (reconcile after)": f"{sweep} s",
    }
    passed = (
        result.returncode == 0
        and len(affected) > 0
        and len(affected_waits) == len(affected)
        and longest <= sweep
    )
    outcome = Outcome(
        name="10% of state-change events dropped",
        fault="each Batch state-change event dropped with probability 0.1 (seeded)",
        target=f"every affected job resolved by the reconcile path, none waiting more than one sweep period "
        f"({sweep} s)",
        passed=passed,
        measured=f"{len(affected_waits)} of {len(affected)} jobs whose final event was lost were noticed, the "
        f"longest {longest:.1f} s after Batch finished them; Snakemake exit {result.returncode}",
        figures=figures,
    )
    return outcome, len(affected) > 0


def ctrl_c(n: int, workdir: Path) -> Outcome:
    with chaos_cloud(30.0) as cloud:
        fanout = prepare_fanout(cloud, OURS, n, workdir, prefix="chaos-ctrlc")
        wait_for_lambdas_idle(cloud)
        with open(fanout.rundir / "snakemake.log", "w") as log:
            proc = subprocess.Popen(
                interruptible(fanout.command),
                cwd=fanout.rundir,
                env=fanout.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            deadline = time.monotonic() + 600
            while len(batch_jobs(cloud, fanout.run_id)) < n // 2 and proc.poll() is None:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            at_interrupt = len(batch_jobs(cloud, fanout.run_id))
            interrupted_at = time.time()
            proc.send_signal(signal.SIGINT)
            returncode = proc.wait(timeout=300)
            exited_at = time.time()
        jobs, settle = wait_settled(cloud, fanout.run_id, timeout=300)
        marked_at = _cancel_marked_at(cloud, fanout.run_id)
    after_mark = [j for j in jobs if marked_at is not None and j.created > marked_at]
    after_exit = [j for j in jobs if j.created > exited_at]
    ran_on = [j for j in after_mark if j.status == "SUCCEEDED"]
    active = [j for j in jobs if j.active]
    latest = max((j.created - marked_at for j in after_mark), default=0.0) if marked_at else float("nan")
    figures = {
        "Batch jobs at Ctrl-C": f"{at_interrupt:,} of {n:,}",
        "Batch jobs in all": f"{len(jobs):,}",
        "cancel mark written": f"{marked_at - interrupted_at:.1f} s after Ctrl-C" if marked_at else "never",
        "created after the mark (SubmitJob already on its way)": len(after_mark),
        "latest of those, after the mark": f"{latest:.2f} s",
        "of those, ran to completion": len(ran_on),
        "created after Snakemake exited": len(after_exit),
        "Batch jobs active once settled": len(active),
        "time until no job active": f"{settle:.1f} s after Snakemake exited",
        "Snakemake exit": returncode,
    }
    # A job created after Snakemake exited (its SubmitJob in flight at the cancel) is within the target as
    # long as it never ran: the submit function's re-check terminates it, which `ran_on`/`active` check.
    passed = marked_at is not None and at_interrupt < n and not active and not ran_on
    return Outcome(
        name="Ctrl-C at 50% progress",
        fault=f"SIGINT to Snakemake once half of the {n:,} jobs were in Batch (jobs run 30 s each)",
        target="0 Batch jobs left running; no spec still queued at the cancel runs: it never reaches Batch, or "
        "the submit function's re-check in the same delivery terminates the job its SubmitJob in flight made",
        passed=passed,
        measured=f"{len(active)} jobs active {settle:.0f} s after Snakemake exited; {len(after_mark)} jobs created after "
        f"the cancel mark (the latest {latest:.2f} s after it), {len(ran_on)} of them ran; {n - len(jobs):,} queued "
        "specs never reached Batch",
        figures=figures,
    )
