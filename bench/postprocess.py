"""Snakemake's post-processing of finished jobs as the benchmark's probe measured it (the probe's
`postprocess`: JobScheduler._finish_jobs, one job at a time under Snakemake's scheduler lock)."""

from __future__ import annotations

from typing import Any


def postprocess_per_job(done: dict[str, Any] | None) -> tuple[int, float, dict[str, float]] | None:
    """The probe's `postprocess`: jobs, seconds in all and API calls per job by operation (None: none)."""
    jobs = int(done.get("jobs", 0)) if done else 0
    if not done or not jobs:
        return None
    calls = done.get("calls", {})
    return jobs, float(done.get("seconds", 0.0)), {op: calls[op] / jobs for op in sorted(calls)}


def postprocess_text(done: dict[str, Any]) -> str:
    """Snakemake's post-processing of finished jobs, in words."""
    figures = postprocess_per_job(done)
    if figures is None:
        return "no job post-processed"
    jobs, seconds, per_job = figures
    calls = ", ".join(f"{op} {count:.2g}" for op, count in per_job.items()) or "none"
    rate = f"{jobs / seconds:.1f} jobs/s" if seconds else "n/a"
    return (
        f"{jobs:,} jobs in {seconds:.1f} s ({1000 * seconds / jobs:.0f} ms a job, {rate}), on Snakemake's "
        f"main thread holding its scheduler lock; API calls per job meanwhile: {calls}"
    )


def pace(row: dict[str, Any]) -> str:
    """Whether Snakemake's post-processing kept pace with the jobs ending in Batch (a run's row)."""
    figures = postprocess_per_job(row.get("postprocess"))
    end_rate = row.get("end_rate")
    if figures is None or not end_rate or not figures[1]:
        return ""
    done_rate = figures[0] / figures[1]
    verdict = (
        "slower than they ended, so each job waited for those before it"
        if done_rate < end_rate
        else "keeping pace with them"
    )
    return (
        f". This plugin's jobs ended in Batch at {end_rate:.1f} a second (first to last) and Snakemake "
        f"post-processed {done_rate:.1f} jobs a second: {verdict}"
    )
