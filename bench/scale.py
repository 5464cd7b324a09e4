"""The 10,000-job part of the benchmark (issue 11): one simulated scatter through this plugin with AWS
Batch array jobs and without, each on a fresh local cloud whose Batch enforces the 50 TPS SubmitJob quota.

Runs: the bench Snakefile's fan-out (`fanout=N`) with --aws-basic-batch-sls-array-min-size 10 (the
scatter goes as array jobs) and 0 (every job its own SubmitJob), simulated execution on elastic
capacity. The polling plugin is not run at this size: its status round is one DescribeJobs call per
active job; its figures are stated as arithmetic from its measured 1,000-job run.

Targets (PASS/FAIL in RESULTS.md, ratios from one run): all N jobs accepted by Batch with arrays ≤ 0.1x
the time per-job submission needs (and ≤ 0.1x the quota's floor N / 50 s); status calls per round at N
active jobs ≤ 1 per 1,000 active jobs; median detection at N active jobs ≤ 2x this plugin's own median
at 1,000 (the main simulated phase); makespan with arrays ≤ 0.5x without.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sls_contract.limits import BATCH_SUBMIT_JOB_TPS

from . import report
from .harness import HANDOFF_OPS, RunResult, run_workload
from .postprocess import postprocess_per_job
from .scale_notes import MAKESPAN_NOTE, local_cloud_notes

PREFIX = "scale"  # run ids of these runs start with it (how a results.json tells them apart)
ARRAY_MIN_SIZE = 10
SUBMIT_TPS = BATCH_SUBMIT_JOB_TPS  # AWS's SubmitJob quota, as the local Batch enforces it
HANDOFF_RATIO, STATUS_PER_1000, DETECT_RATIO, MAKESPAN_RATIO = 0.1, 1.0, 2.0, 0.5
FRESH_CLOUD_FROM = 1000  # scatters this large get a fresh local cloud per run
REFERENCE_N = 1000
EARLY_FRACTION = 0.01  # the row "the first 1% of jobs to end"
# The plugin's status grace (default 300 s, plus 1 s per 50 specs of the run queued ahead: the time
# they take at AWS's 50 SubmitJob a second). The local cloud's submit function drains the queue slower
# than that at 10,000 specs one by one, so both runs get more: the runs measure submission, not the grace.
GRACE_ENV = {
    "SNAKEMAKE_AWS_BASIC_BATCH_SLS_STATUS_GRACE_SECONDS": "3600"
}  # detection at N is judged against this plugin's median at this size


def is_scale(result: RunResult) -> bool:
    return result.run_id.startswith(f"{PREFIX}-")


def run(
    n: int, seconds: float, workdir: Path, cloud: Callable[[bool, float], Any], say: Callable[[str], None]
) -> list[RunResult]:
    """The N-way scatter with arrays, then without, each on a fresh local cloud (`cloud(simulated,
    seconds)`) from FRESH_CLOUD_FROM jobs: moto's SQS and DynamoDB slow down as they fill, so neither run pays for the other's items."""
    results: list[RunResult] = []
    if n < FRESH_CLOUD_FROM:  # a small scatter (the smoke run) fills nothing: both runs share a cloud
        say(f"local cloud up: simulated execution, {seconds:g} s per job, elastic capacity ({n} jobs)")
        with cloud(True, seconds) as local:
            results += [_run_one(local, n, workdir, size, say) for size in (ARRAY_MIN_SIZE, 0)]
        return results
    for array_min_size in (ARRAY_MIN_SIZE, 0):
        say(f"local cloud up: simulated execution, {seconds:g} s per job, elastic capacity ({n} jobs)")
        with cloud(True, seconds) as local:
            results.append(_run_one(local, n, workdir, array_min_size, say))
    return results


def _run_one(local: Any, n: int, workdir: Path, array_min_size: int, say: Callable[[str], None]) -> RunResult:
    label = "with arrays" if array_min_size else "one SubmitJob per job"
    say(f"{report.OURS}: {n} simulated jobs, {label}")
    result = run_workload(
        local, report.OURS, n, workdir, simulated=True, timeout=3600, extra_env=GRACE_ENV, prefix=PREFIX,
        array_min_size=array_min_size,
    )  # fmt: skip
    say(
        f"{label}: exit {result.returncode}, wall {result.wall_seconds:.1f} s, all in Batch "
        f"{result.batch_handoff_seconds()}, makespan {result.makespan_seconds()}"
    )
    # Each run's result as soon as it is known (a 10,000-job run takes long): `--render` reads it.
    saved = workdir / f"{result.run_id}.result.json"
    saved.write_text(json.dumps([asdict(result)]))
    say(f"raw result in {saved}")
    return result


# -- figures ----------------------------------------------------------------------------------------


def _first_handoff(result: RunResult) -> float | None:
    times = [t for op, t in result.probe["first_call"].items() if op in HANDOFF_OPS]
    return min(times) if times else None


def _busy_rounds(result: RunResult) -> dict[str, Any]:
    """Status rounds with ≥ 90% of the jobs active: API calls per round as the probe counted them
    (botocore's before-call: one per call, each Query page its own call) and HTTP attempts (retries)."""
    busy = [r for r in result.probe["rounds"] if r["active"] >= 0.9 * result.n]
    if not busy:
        return {"rounds": 0}
    calls = [sum(r["calls"].values()) for r in busy]
    ops = sorted({op for r in busy for op in r["calls"]})
    return {
        "rounds": len(busy),
        "active": statistics.median(r["active"] for r in busy),
        "calls_median": statistics.median(calls),
        "calls_max": max(calls),
        "sends_max": max(sum(r["sends"].values()) for r in busy),
        "by_op_max": {op: max(r["calls"].get(op, 0) for r in busy) for op in ops},
        "per_1000": statistics.median(c / (r["active"] / 1000) for c, r in zip(calls, busy, strict=True)),
        "rounds_over": sum(
            c > STATUS_PER_1000 * r["active"] / 1000 for c, r in zip(calls, busy, strict=True)
        ),
        "round_median": statistics.median(r["end"] - r["start"] for r in busy),
        "round_max": max(r["end"] - r["start"] for r in busy),
    }


def rate(times: list[float]) -> float | None:
    """Events per second from the first to the last of these sorted times."""
    return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else None


def _run_figures(result: RunResult) -> dict[str, Any]:
    first = _first_handoff(result)
    other = result.probe.get("other", {})
    submit = report._lambda(result, "SubmitFunction")
    started = result.probe.get("started")
    detection = result.detection_seconds()
    to_record, to_notice = result.detection_split()
    # The first 1% to end: with arrays, are they waiting behind the end burst or behind the start's?
    early = result.first_to_end(EARLY_FRACTION)
    terminal = sorted(result.terminal_at.values())
    recorded = sorted(result.recorded_at.values())
    noticed = sorted(t for t, _ in result.probe["noticed"].values())
    record = report._lambda(result, "RecordFunction")
    writes_done = None
    if (
        "dynamodb.BatchWriteItem" in result.probe["first_call"]
        and "sqs.SendMessageBatch" in result.probe["first_call"]
    ):
        writes_done = result.probe["first_call"]["sqs.SendMessageBatch"] - first if first else None
    return {
        "n": result.n,
        "arrays": result.array_min_size,
        "ok": result.returncode == 0,
        "noticed": len(result.probe["noticed"]),
        "in_batch": len(result.created_at),
        "batch_handoff": result.batch_handoff_seconds(),
        "handoff": result.handoff_seconds(),
        "makespan": result.makespan_seconds(),
        "wall": result.wall_seconds,
        "before_handoff": None if started is None or first is None else first - started,
        "writes_before_send": writes_done,  # arrays: child records and commands, before the spec goes
        "batch_write_items": other.get("dynamodb.BatchWriteItem", 0),
        "spec_sends": other.get("sqs.SendMessageBatch", 0),
        "submit_jobs": submit.get("calls", {}).get("batch.SubmitJob", 0),
        "submit_invocations": submit.get("invocations", 0),
        # the plugin's asynchronous Invoke of the reconcile function, 100 quiet jobs each
        "reconcile_asks": sum(r["calls"].get("lambda.Invoke", 0) for r in result.probe["rounds"])
        + other.get("lambda.Invoke", 0),
        "status": _busy_rounds(result),
        "all_rounds": len(result.probe["rounds"]),
        "detect_median": report._pct(detection, 0.5),
        "detect_p95": report._pct(detection, 0.95),
        "to_record": (report._pct(to_record, 0.5), report._pct(to_record, 0.95)),
        "to_notice": (report._pct(to_notice, 0.5), report._pct(to_notice, 0.95)),
        "early": (
            report._pct(result.detection_seconds(early), 0.5),
            report._pct(result.detection_split(early)[0], 0.5),
        ),
        "terminal_spread": terminal[-1] - terminal[0] if terminal else None,
        "events_per_job": record.get("records", 0) / result.n if result.n else None,
        "report_wait": result.probe.get("report_wait"),
        "postprocess": result.probe.get("postprocess"),
        "noticed_rate": rate(noticed),
        # terminal records written per second, first to last (the record path's pace when all end together)
        "recorded_rate": rate(recorded),
    }


def figures(results: list[RunResult], table: dict[str, Any]) -> dict[str, Any]:
    """The scale runs' figures, this plugin's detection at REFERENCE_N from the main phase, and the
    polling plugin's round at REFERENCE_N (for the arithmetic)."""
    runs = [r for r in results if is_scale(r)]
    if not runs:
        return {}
    out: dict[str, Any] = {"n": max(r.n for r in runs), "floor": max(r.n for r in runs) / SUBMIT_TPS}
    for r in runs:
        out["arrays" if r.array_min_size else "per_job"] = _run_figures(r)
    sim = table.get("simulated", {})
    sizes = sorted(n for plugin, n in sim if plugin == report.OURS)
    reference = REFERENCE_N if REFERENCE_N in sizes else (sizes[-1] if sizes else None)
    if reference is not None:
        row = sim[(report.OURS, reference)]
        out["reference"] = {
            "n": reference,
            "detect_median": row["detect_median"],
            "to_notice": (row.get("split") or {}).get("to_notice", (None, None))[0],
        }
    theirs = sorted(n for plugin, n in sim if plugin == report.THEIRS)
    if theirs:
        row = sim[(report.THEIRS, theirs[-1])]
        out["polling"] = {
            "n": theirs[-1],
            "calls": row["status"]["calls"],
            "active": row["status"]["active"],
            "round_seconds": row["status"]["round_seconds"],
            "detect_median": row["detect_median"],
            "batch_handoff": row["batch_handoff"],
        }
    return out


# -- report -----------------------------------------------------------------------------------------


def target_lines(table: dict[str, Any]) -> list[str]:
    scale = table.get("scale") or {}
    if not scale:
        return []
    n, floor = scale["n"], scale["floor"]
    arrays, per_job = scale.get("arrays", {}), scale.get("per_job", {})
    lines = []

    a, b = arrays.get("batch_handoff"), per_job.get("batch_handoff")
    ratio = report._ratio(a, b)
    ok = ratio is not None and ratio <= HANDOFF_RATIO and a is not None and a <= HANDOFF_RATIO * floor
    detail = (
        f"x: {report._f(a)} with arrays vs {report._f(b)} one SubmitJob per job; the quota's floor for "
        f"per-job submission is {n:,} / {SUBMIT_TPS:g} TPS = {floor:.0f} s, arrays {report._f(a)} = "
        f"{(a or 0) / floor:.3g}x of it ({arrays.get('submit_jobs', 0)} vs {per_job.get('submit_jobs', 0)} "
        "SubmitJob calls)"
    )
    lines.append(
        report._line(f"all {n:,} jobs of a scatter accepted by Batch (50 TPS quota enforced), arrays ÷ one "
                     f"SubmitJob per job (target ≤ {HANDOFF_RATIO}x, and ≤ {HANDOFF_RATIO}x the floor)",
                     ratio, ok, detail)
    )  # fmt: skip

    status = arrays.get("status", {})
    per_1000 = status.get("per_1000")
    detail = (
        f"calls per 1,000 active jobs, the median round of {status.get('rounds')} with ≥ 90% of the jobs "
        f"active ({status.get('calls_median'):g} calls at {status.get('active'):g} active jobs; the array "
        "run; API calls as botocore makes them, each Query page one call). Rounds above the target: "
        f"{status.get('rounds_over')}; the busiest made {status.get('calls_max')} calls (at most, by "
        f"operation: {', '.join(f'{op} {c}' for op, c in status.get('by_op_max', {}).items())}): "
        "BatchGetItem calls are the round in which jobs without news for the reconcile period (300 s) are "
        "read consistently, 100 a call, before the reconcile function is asked about them"
        if status.get("rounds")
        else "no round with ≥ 90% of the jobs active"
    )
    lines.append(
        report._line(f"status calls per round at {n:,} active jobs (target ≤ {STATUS_PER_1000:g} per 1,000 "
                     "active jobs)", per_1000, per_1000 is not None and per_1000 <= STATUS_PER_1000, detail)
    )  # fmt: skip

    reference = scale.get("reference") or {}
    ours, early = arrays.get("detect_median"), arrays.get("early", (None, None))
    ratio = report._ratio(ours, reference.get("detect_median"))
    lines.append(
        report._line(
            f"median detection at {n:,} active jobs ÷ this plugin's at {reference.get('n', REFERENCE_N):,} "
            f"(target ≤ {DETECT_RATIO:g}x)",
            ratio, ratio is not None and ratio <= DETECT_RATIO,
            f"x: {report._f(ours)} (array run) vs {report._f(reference.get('detect_median'))}. Record written -> "
            f"Snakemake told (the plugin's reads, then Snakemake's post-processing lock), median: "
            f"{report._f(arrays.get('to_notice', (None,))[0])} vs {report._f(reference.get('to_notice'))}; the "
            "rest is the record path (see the notes below). The first "
            f"{EARLY_FRACTION:.0%} of the array's jobs to end waited {report._f(early[0])}, "
            f"{report._f(early[1])} of it before their record was written (the notes say why)",
        )
    )  # fmt: skip

    ratio = report._ratio(arrays.get("makespan"), per_job.get("makespan"))
    lines.append(
        report._line(
            f"simulated {n:,}-job makespan with arrays ÷ without (target ≤ {MAKESPAN_RATIO:g}x)",
            ratio, ratio is not None and ratio <= MAKESPAN_RATIO,
            f"x: {report._f(arrays.get('makespan'))} vs {report._f(per_job.get('makespan'))}",
        )
    )  # fmt: skip
    return lines


def _report_wait(run: dict[str, Any]) -> str:
    wait = run.get("report_wait")
    if not wait:
        return "not measured"
    return f"{_cell(float(wait['seconds']))} / {_cell(float(wait['max']))}"


def _postprocess(run: dict[str, Any]) -> str:
    figures = postprocess_per_job(run.get("postprocess"))
    if figures is None:
        return "not measured"
    jobs, seconds, per_job = figures
    s3 = sum(count for op, count in per_job.items() if op.startswith("s3."))
    return f"{report._f(1000 * seconds / jobs, 'ms')} / {s3:.2g}"


def _cell(value: Any, unit: str = "s") -> str:
    if isinstance(value, float):
        return report._f(value, unit)
    return "n/a" if value is None else f"{value:,}" if isinstance(value, int) else str(value)


def section(table: dict[str, Any], seconds: float | None) -> list[str]:
    scale = table.get("scale") or {}
    if not scale:
        return []
    n, floor = scale["n"], scale["floor"]
    runs = [
        (label, scale[key])
        for key, label in (("arrays", "with arrays"), ("per_job", "one SubmitJob per job"))
        if key in scale
    ]
    out = [
        f"## {n:,} jobs: one scatter with and without array jobs",
        "",
        f"The bench Snakefile's fan-out with `fanout={n}` through this plugin, "
        f"`--aws-basic-batch-sls-array-min-size {ARRAY_MIN_SIZE}` (the scatter goes as array jobs) and `0` "
        "(one SubmitJob per job), each on a fresh local cloud (from 1,000 jobs) with the 50 TPS SubmitJob quota enforced and "
        f"simulated execution on elastic capacity, every job RUNNING for {seconds:g} s"
        if seconds is not None
        else f"The bench Snakefile's fan-out with `fanout={n}` through this plugin, with and without arrays",
    ]
    if seconds is not None:
        out[-1] += (
            f". {seconds:g} s is longer than the array run needs to start all its children (one SubmitJob, "
            "then the local Batch moves them to RUNNING a chunk at a time and emits three events each), so "
            f"there all {n:,} jobs are RUNNING at once and the status rounds at {n:,} active jobs are many; "
            f"per job, the quota lets at most {SUBMIT_TPS:g} x {seconds:g} = {SUBMIT_TPS * seconds:,.0f} "
            "run at once."
        )
    out += [
        "",
        "| figure | " + " | ".join(label for label, _ in runs) + " |",
        "|---|" + "---|" * len(runs),
    ]
    rows = [
        ("exit", lambda r: "ok" if r["ok"] else "FAILED"),
        ("jobs noticed finished / in Batch", lambda r: f"{r['noticed']:,} / {r['in_batch']:,}"),
        ("SubmitJob calls (submit function) / invocations", lambda r: f"{r['submit_jobs']:,} / {r['submit_invocations']:,}"),
        ("Snakemake before its first hand-off call (DAG, scheduling)", lambda r: _cell(r["before_handoff"])),
        ("BatchWriteItem calls (child records and commands)", lambda r: _cell(r["batch_write_items"])),
        ("first hand-off call -> first spec sent", lambda r: _cell(r["writes_before_send"])),
        ("Snakemake hand-off (first hand-off call -> last job reported submitted)", lambda r: _cell(r["handoff"])),
        ("all jobs in Batch (first hand-off call -> last job created)", lambda r: _cell(r["batch_handoff"])),
        ("status rounds with ≥ 90% active / all", lambda r: f"{r['status'].get('rounds', 0)} / {r['all_rounds']}"),
        ("status calls per round, median / max (HTTP attempts max)", lambda r: f"{_cell(r['status'].get('calls_median'), '')} / {_cell(r['status'].get('calls_max'))} ({_cell(r['status'].get('sends_max'))})"),
        ("status round time, median / max", lambda r: f"{_cell(r['status'].get('round_median'))} / {_cell(r['status'].get('round_max'))}"),
        ("detection median / p95", lambda r: f"{_cell(r['detect_median'])} / {_cell(r['detect_p95'])}"),
        ("terminal -> recorded, median / p95", lambda r: f"{_cell(r['to_record'][0])} / {_cell(r['to_record'][1])}"),
        ("recorded -> noticed, median / p95", lambda r: f"{_cell(r['to_notice'][0])} / {_cell(r['to_notice'][1])}"),
        (f"the first {EARLY_FRACTION:.0%} of jobs to end: detection / terminal -> recorded, medians",
         lambda r: f"{_cell(r['early'][0])} / {_cell(r['early'][1])}"),
        ("inside Snakemake's report_job_success (its scheduler lock), total / longest", _report_wait),
        ("Snakemake's post-processing of a finished job (under that lock): time / S3 calls", _postprocess),
        ("first to last job terminal in Batch", lambda r: _cell(r["terminal_spread"])),
        ("state-change events the record function handled, per job", lambda r: _cell(r.get("events_per_job"), "")),
        ("terminal records written per second, first to last", lambda r: _cell(r.get("recorded_rate"), "/s")),
        ("jobs Snakemake was told ended, per second, first to last", lambda r: _cell(r.get("noticed_rate"), "/s")),
        ("reconcile function asked (Invoke, 100 jobs without news for 300 s each)", lambda r: _cell(r.get("reconcile_asks"))),
        ("makespan (first hand-off call -> last job noticed)", lambda r: _cell(r["makespan"])),
        ("Snakemake wall time", lambda r: _cell(r["wall"])),
    ]  # fmt: skip
    out += [f"| {name} | " + " | ".join(get(run) for _, run in runs) + " |" for name, get in rows]
    out += [
        "",
        f"Per-job submission's floor: {n:,} SubmitJob calls at {SUBMIT_TPS:g} TPS = {floor:.0f} s.",
        "",
        MAKESPAN_NOTE,
        "",
    ]
    polling = scale.get("polling")
    if polling and polling.get("calls") and polling.get("active"):
        factor = n / polling["active"]
        out += [
            f"**The polling plugin (aws-basic-batch) at {n:,} jobs: arithmetic, not measured.** It is not run "
            "at this size: each status round is one DescribeJobs call per active job, so a round at "
            f"{n:,} active jobs is {n:,} calls. Measured at {polling['n']:,} jobs in this run: "
            f"{polling['calls']:g} calls per round at {polling['active']:g} active jobs, "
            f"{report._f(polling['round_seconds'])} per round, detection median {report._f(polling['detect_median'])}. "
            f"Scaled by {factor:g}: {polling['calls'] * factor:,.0f} calls per round, "
            f"about {report._f((polling['round_seconds'] or 0) * factor)} per round (the calls are sequential "
            "at Snakemake's status rate limit), so a job's end is noticed on average half a round to a "
            f"round later; its {n:,} SubmitJob calls take at least the {floor:.0f} s floor.",
            "",
        ]
    out += local_cloud_notes(n)
    return out
