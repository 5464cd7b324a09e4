"""The fan-out sent as one AWS Batch array job, with dropped events and duplicate deliveries at once."""

from __future__ import annotations

import statistics
from pathlib import Path

from localcloud.batch import BatchRuntimeConfig
from localcloud.batch.events import fault_key
from localcloud.batch.faults import plan_event
from sls_contract import stack_outputs

from ..harness import run_workload
from .batch_side import BatchJob, batch_jobs
from .cloud import chaos_cloud, until_struck
from .outcome import Outcome
from .workloads import OURS, _drop_timing, _submit_deliveries

ARRAY_MIN_SIZE = 10  # the plugin's default: the N alike jobs of the fan-out go as one array of N children


def _event_name(job: BatchJob) -> str:
    """The name the fault plan drew this job's events for (a child's: `<name>:<index>`)."""
    return fault_key({"jobName": job.name, "arrayProperties": {"index": job.array_index}})


def _dropped(config: BatchRuntimeConfig, job: BatchJob) -> bool:
    """Whether the job's final event was dropped: the fault plan is deterministic per (seed, name,
    status, attempt), the attempt of a final event being the job's number of attempts (a parent: 0)."""
    return plan_event(config, _event_name(job), job.status, job.attempts).drop


def array_faults(n: int, workdir: Path) -> Outcome:
    return until_struck(lambda seed: _array_faults(n, workdir, seed))


def _array_faults(n: int, workdir: Path, seed: int) -> tuple[Outcome, bool]:
    sweep, job_seconds = _drop_timing(n)  # each child runs half a sweep period, as in dropped_events
    env = {"SNAKEMAKE_AWS_BASIC_BATCH_SLS_RECONCILE_AFTER_SECONDS": str(sweep)}
    with chaos_cloud(
        job_seconds, cloud={"jobs_queue_deliveries": 3}, seed=seed, event_drop_rate=0.1
    ) as cloud:
        result = run_workload(
            cloud, OURS, n, workdir, simulated=True, prefix="chaos-array", extra_env=env,
            array_min_size=ARRAY_MIN_SIZE,
        )  # fmt: skip
        jobs = batch_jobs(cloud, result.run_id)
        config = cloud.batch.config
        deliveries = _submit_deliveries(cloud, result)
        submit = cloud.deployment.outputs[stack_outputs.SUBMIT_FUNCTION_NAME]
    submits = int(result.lambda_delta.get(submit, {}).get("calls", {}).get("batch.SubmitJob", 0))
    parents = [j for j in jobs if j.array_size is not None]
    children = [j for j in jobs if j.array_index is not None]
    alone = len(jobs) - len(parents) - len(children)  # Batch jobs of the run that are no array's part
    succeeded = sum(j.status == "SUCCEEDED" for j in children)
    one_array = len(parents) == 1 and parents[0].array_size == n and len(children) == n and alone == 0
    affected = {j.spec_job_id for j in children if _dropped(config, j)}
    stopped = {j.spec_job_id: j.stopped for j in children if j.stopped is not None}
    noticed = result.probe["noticed"]
    waits = sorted(noticed[j][0] - stopped[j] for j in affected if j in noticed and j in stopped)
    longest = max(waits, default=float("nan"))
    all_noticed = len(noticed) == n and all(ok for _, ok in noticed.values())
    figures = {
        "Snakemake exit": result.returncode,
        "SubmitJob calls": submits,
        "array parents in Batch": len(parents),
        "children": f"{len(children):,} (array size {parents[0].array_size if parents else '-'})",
        "children SUCCEEDED": f"{succeeded:,} of {n:,}",
        "Batch jobs outside the array": alone,
        "Snakemake jobs noticed": f"{len(noticed):,} of {n:,}",
        "children whose final event was dropped": len(affected),
        "of those, noticed by Snakemake": len(waits),
        "their wait after Batch's final state, median / max": (
            f"{statistics.median(waits):.1f} s / {longest:.1f} s" if waits else "-"
        ),
        "array's own final event dropped": any(_dropped(config, j) for j in parents),
        "sweep period (reconcile after)": f"{sweep} s",
        "each child runs": f"{job_seconds:g} s",
        "jobs-queue deliveries handled by the submit function": deliveries,
    }
    passed = (
        result.returncode == 0
        and one_array
        and succeeded == n
        and all_noticed
        and len(affected) > 0
        and len(waits) == len(affected)
        and longest <= sweep
        and deliveries >= 3
    )
    outcome = Outcome(
        name="array job: 10% of events dropped, every message delivered 3 times",
        fault=f"the {n:,} jobs sent as one array job (array min size {ARRAY_MIN_SIZE}); each Batch "
        "state-change event dropped with probability 0.1 (seeded) and each jobs-queue message handled 3 "
        f"times by the submit function; each child runs {job_seconds:g} s",
        target=f"one array of {n:,} children in Batch, all SUCCEEDED and noticed; every child whose final "
        f"event was lost noticed within one sweep period ({sweep} s)",
        passed=passed,
        measured=f"{len(parents)} array parent(s) with {len(children):,} children ({succeeded:,} SUCCEEDED) "
        f"after {submits} SubmitJob call(s) and {deliveries} deliveries; {len(waits)} of {len(affected)} children "
        f"whose final event was lost noticed, the longest {longest:.1f} s after Batch finished them; "
        f"{len(noticed):,} of {n:,} jobs noticed; Snakemake exit {result.returncode}",
        figures=figures,
    )
    return outcome, len(affected) > 0
