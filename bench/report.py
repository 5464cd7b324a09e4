"""Figures from the runs, the PASS/FAIL lines against issue 5's targets, RESULTS.md and the PNG."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from . import scale, scale_notes
from .cost import cost_figures, cost_section, cost_target
from .harness import COMMON_FLAGS, RETRY_ENV, RunResult
from .imports import BARE_PREFIX, CLIENTS_PREFIX, LIBRARIES_PREFIX, RATIO_PREFIX, init_ratio_targets
from .invocations import produced_by
from .postprocess import pace, postprocess_text
from .report_notes import NOTES
from .verdicts import line as _line

OURS, THEIRS = "aws-basic-batch-sls", "aws-basic-batch"


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _round_calls(result: RunResult) -> dict[str, Any]:
    busy = result.busy_rounds()
    totals = [sum(r["calls"].values()) for r in busy]
    ops = sorted({op for r in busy for op in r["calls"]})
    return {
        "rounds": len(result.probe["rounds"]),
        "busy_rounds": len(busy),
        "active": statistics.median([r["active"] for r in busy]) if busy else None,
        "calls": statistics.median(totals) if totals else None,
        "by_op": {op: statistics.median([r["calls"].get(op, 0) for r in busy]) for op in ops},
        "round_seconds": statistics.median([r["end"] - r["start"] for r in busy]) if busy else None,
        "retries": sum(sum(r["sends"].values()) - sum(r["calls"].values()) for r in busy),
    }


def _lambda(result: RunResult, kind: str) -> dict[str, Any]:
    return next((v for k, v in result.lambda_delta.items() if kind in k), {})


def figures(results: list[RunResult], plan: dict) -> dict[str, Any]:
    table: dict[str, Any] = {"simulated": {}, "real": {}, "handlers": {}}
    runs = [r for r in results if not scale.is_scale(r)]  # the 10,000-job runs: bench/scale.py
    for r in runs:
        detection = r.detection_seconds()
        row = {
            "ok": r.returncode == 0,
            "noticed": len(r.probe["noticed"]),
            "status": _round_calls(r),
            "detect_median": _pct(detection, 0.5),
            "detect_p95": _pct(detection, 0.95),
            "handoff": r.handoff_seconds(),
            "batch_handoff": r.batch_handoff_seconds(),
            "makespan": r.makespan_seconds(),
            "wall": r.wall_seconds,
            "other_calls": r.probe["other"],
            "job_median": _pct(r.job_seconds(), 0.5),  # RUNNING -> terminal in Batch
            "report_wait": r.probe.get("report_wait"),  # inside Snakemake's report_job_success/error
            "postprocess": r.probe.get("postprocess"),  # Snakemake's JobScheduler._finish_jobs
            # jobs reaching a terminal state in Batch per second, first to last
            "end_rate": scale.rate(sorted(r.terminal_at.values())),
        }
        to_record, to_notice = r.detection_split()
        if to_record:
            row["split"] = {
                "to_record": (_pct(to_record, 0.5), _pct(to_record, 0.95)),
                "to_notice": (_pct(to_notice, 0.5), _pct(to_notice, 0.95)),
            }
        table["simulated" if r.simulated else "real"][(r.plugin, r.n)] = row
    ours = [r for r in runs if r.plugin == OURS and r.simulated]
    if ours:
        largest = max(ours, key=lambda r: r.n)
        submit, record = _lambda(largest, "SubmitFunction"), _lambda(largest, "RecordFunction")
        table["handlers"] = {
            "jobs": largest.n,
            "submit_cpu_per_job": submit.get("handler_cpu_seconds", 0) / max(1, submit.get("records", 0)),
            "record_cpu_per_job": record.get("handler_cpu_seconds", 0) / max(1, largest.n),
            "record_events": record.get("records", 0),
            "record_cpu_per_event": record.get("handler_cpu_seconds", 0) / max(1, record.get("records", 0)),
            # submit: one job per delivered spec; record: the run's jobs (several events each)
            "submit": _breakdown(submit, max(1, submit.get("records", 0))),
            "record": _breakdown(record, max(1, largest.n)),
        }
    # Measured once per invocation with a real part, after its runs; a report rendered from several
    # invocations (`--render A B`) takes them from whichever one measured them, not from the last.
    imports = next((r.imports for r in reversed(results) if r.imports), {})
    table["imports"] = {
        k: v
        for k, v in imports.items()
        if not k.startswith((BARE_PREFIX, CLIENTS_PREFIX, RATIO_PREFIX, LIBRARIES_PREFIX, "baseline: "))
    }
    table["import_ratio"] = {
        k[len(RATIO_PREFIX) :]: v for k, v in imports.items() if k.startswith(RATIO_PREFIX)
    }
    table["import_bare"] = {k[len(BARE_PREFIX) :]: v for k, v in imports.items() if k.startswith(BARE_PREFIX)}
    table["import_libraries"] = {
        k[len(LIBRARIES_PREFIX) :]: v for k, v in imports.items() if k.startswith(LIBRARIES_PREFIX)
    }
    table["import_clients"] = {
        k[len(CLIENTS_PREFIX) :]: v for k, v in imports.items() if k.startswith(CLIENTS_PREFIX)
    }
    table["cost"] = cost_figures(results)
    first: dict[str, list[str]] = {}
    seen: set[str] = set()
    for r in results:  # a cold worker's first invocation (the slowest worker's), once per local cloud
        for name, stats in r.lambda_delta.items():
            if stats.get("first_invocation_seconds") and name not in seen:
                seen.add(name)
                kind = name.split("-")[-2]
                label = f"{r.n}-job {'simulated' if r.simulated else 'real'} run"
                first.setdefault(kind, []).append(
                    f"{stats['first_invocation_seconds'] * 1000:.0f} ms ({label})"
                )
    table["first_invocation"] = first
    table["scale"] = scale.figures(results, table)
    return table


def _breakdown(stats: dict[str, Any], jobs: int) -> dict[str, Any]:
    """Handler CPU per job split into AWS API calls (count x CPU per call, by operation) and the rest."""
    calls, cpu = stats.get("calls", {}), stats.get("call_cpu_seconds", {})
    ops = {
        op: {"per_job": count / jobs, "ms_per_call": 1000 * cpu.get(op, 0.0) / count}
        for op, count in sorted(calls.items())
        if count
    }
    total = stats.get("handler_cpu_seconds", 0.0) / jobs
    in_calls = sum(cpu.values()) / jobs
    return {
        "workers": stats.get("workers"),
        "ops": ops,
        "calls_per_job": sum(calls.values()) / jobs,
        "ms_per_call": 1000 * sum(cpu.values()) / max(1, sum(calls.values())),
        "calls_ms": 1000 * in_calls,
        "rest_ms": 1000 * (total - in_calls),
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def targets(table: dict[str, Any]) -> list[str]:
    sim = table["simulated"]
    sizes = sorted({n for _, n in sim})
    if not sizes:
        return []
    n = sizes[-1]
    ours, theirs = sim.get((OURS, n), {}), sim.get((THEIRS, n), {})
    lines = []
    calls = _ratio(theirs.get("status", {}).get("calls"), ours.get("status", {}).get("calls"))
    lines.append(_line(f"status calls per round at {n} active jobs, aws-basic-batch ÷ ours (target ≥ 100x)",
                       calls, calls is not None and calls >= 100, "x fewer calls"))  # fmt: skip
    detect = _ratio(theirs.get("detect_median"), ours.get("detect_median"))
    split = ours.get("split")
    legs = (
        f" (this plugin's median: {_f(split['to_record'][0])} from Batch's terminal state to the record "
        f"function's write, {_f(split['to_notice'][0])} from that write to Snakemake noticing)"
        if split
        else ""
    )
    waits = [sim.get((plugin, n), {}).get("report_wait") for plugin in (OURS, THEIRS)]
    if all(waits):
        legs += (
            f". Time inside Snakemake's report_job_success, which waits for Snakemake's scheduler lock while "
            f"its main thread post-processes finished jobs (S3 checks, one job at a time): "
            f"{_f(waits[0]['seconds'])} in all, {_f(waits[0]['max'])} at most, for this plugin, which "
            f"tells Snakemake of each job within a round of its record changing; {_f(waits[1]['seconds'])} "
            f"and {_f(waits[1]['max'])} for aws-basic-batch, which learns of them a round of DescribeJobs "
            "calls later, while Snakemake post-processes"
        )
    legs += pace(ours)
    lines.append(_line(f"median detection at {n} active jobs, aws-basic-batch ÷ ours (target ≥ 20x)",
                       detect, detect is not None and detect >= 20, "x faster" + legs))  # fmt: skip
    handoff = _ratio(theirs.get("handoff"), ours.get("handoff"))
    lines.append(_line(f"Snakemake hand-off of {n} jobs, aws-basic-batch ÷ ours (target ≥ 5x)",
                       handoff, handoff is not None and handoff >= 5, "x faster"))  # fmt: skip
    makespan = _ratio(ours.get("makespan"), theirs.get("makespan"))
    lines.append(_line(f"simulated {n}-job makespan, ours ÷ aws-basic-batch (target ≤ 0.5x)",
                       makespan, makespan is not None and makespan <= 0.5, "x of aws-basic-batch's"))  # fmt: skip
    handlers = table["handlers"]
    for kind in ("submit", "record"):
        ms = handlers.get(f"{kind}_cpu_per_job")
        ms = None if ms is None else ms * 1000
        split = handlers.get(kind)
        detail = "ms"
        if split:
            detail = (
                f"ms = {split['calls_per_job']:.2f} AWS calls per job x {split['ms_per_call']:.2f} ms CPU "
                f"per call in botocore ({split['calls_ms']:.2f} ms) + {split['rest_ms']:.2f} ms the rest"
            )
        lines.append(
            _line(f"{kind} handler CPU per job (target ≤ 2 ms)", ms, ms is not None and ms <= 2, detail)
        )
    lines += cost_target(table)
    lines += init_ratio_targets(table)
    real = table["real"]
    if real:
        size = sorted({n for _, n in real})[-1]
        ratio = _ratio(
            real.get((OURS, size), {}).get("makespan"), real.get((THEIRS, size), {}).get("makespan")
        )
        shown = "n/a" if ratio is None else f"{ratio:.3g}"
        ours, theirs = (real.get((plugin, size), {}).get("job_median") for plugin in (OURS, THEIRS))
        lines.append(
            f"- (no target) real {size}-job makespan, ours ÷ aws-basic-batch: {shown}. Each job here is a "
            "local process run 2 at a time on this 2-core machine, so job execution sets most of this "
            f"makespan. Median job time in Batch (RUNNING -> terminal): {_f(ours)} ours, {_f(theirs)} "
            "aws-basic-batch. The jobs differ: this plugin's job command first runs Snakemake's own "
            "`python -m snakemake --deploy-sources` (a second Snakemake start in each job, which fetches "
            "and unpacks the workflow's sources from S3) so that a stock image runs any "
            "workflow; aws-basic-batch's jobs need the workflow in the image and skip it. The jobs also "
            "share the 2 cores with this plugin's control plane (its workers and moto processes), which on "
            "AWS runs apart from the jobs' instances."
        )
    return lines


def _f(value: float | None, unit: str = "s") -> str:
    return "n/a" if value is None else f"{value:.2f} {unit}".strip()


def render_markdown(
    table: dict[str, Any],
    results: list[RunResult],
    plan: dict,
    smoke: bool,
    invocations: list[str] | None = None,
) -> str:
    """`invocations`: when the results come from several invocations of the benchmark, each one's
    `--only` command and start (invocations.invocation_of), in order; the report names them instead of one command."""
    out = ["# Benchmark: aws-basic-batch-sls vs aws-basic-batch on the local cloud", ""]
    if smoke:
        out += ["*Smoke run (`make bench-smoke`): small sizes, figures only, not the report.*", ""]
    command = produced_by(plan, results, smoke, invocations)
    out += [
        f"Produced by {command}. Both plugins ran in the same run, one after the other, "
        "against the same local cloud (moto on 127.0.0.1 + this repo's Lambda workers and local Batch), "
        "with the same Snakemake flags: `" + " ".join(COMMON_FLAGS) + "` plus `--jobs N`, and the same "
        f"botocore retry environment `{RETRY_ENV}`. The local Batch enforces the 50 TPS SubmitJob quota.",
        "",
        "**Execution is simulated** in the 100/1,000-job runs: the local Batch keeps each job RUNNING for a "
        f"fixed time ({', '.join(f'{s:g} s at {n}' for n, s in plan['simulated'])} jobs) on elastic capacity "
        "and puts the job's output in the local S3 instead of running Snakemake's job command. The "
        f"{plan['real']}-job runs are real: every job is `python -m snakemake --mode remote ...` as a local process, "
        "2 at a time (2 cores).",
        "",
        *([] if plan.get("scale") or smoke else scale_notes.not_run()),
        "## Targets",
        "",
        *targets(table),
        *scale.target_lines(table),
        "",
        *cost_section(table),
        "## Figures",
        "",
        "| workload | plugin | status calls / round (by operation) | active jobs / round | round time | "
        "detection median / p95 | Snakemake hand-off | all jobs in Batch | makespan | exit |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for phase in ("simulated", "real"):
        for (plugin, n), row in sorted(table[phase].items(), key=lambda kv: (kv[0][1], kv[0][0] != OURS)):
            status = row["status"]
            ops = ", ".join(f"{op} {count:g}" for op, count in status["by_op"].items()) or "-"
            out.append(
                f"| {n} {phase} | {plugin} | {status['calls'] if status['calls'] is not None else 'n/a'} ({ops}) | "
                f"{status['active']} | {_f(status['round_seconds'])} | {_f(row['detect_median'])} / "
                f"{_f(row['detect_p95'])} | {_f(row['handoff'])} | {_f(row['batch_handoff'])} | "
                f"{_f(row['makespan'])} | {'ok' if row['ok'] else 'FAILED'} |"
            )
    out += [
        "",
        "Detection of this plugin in two legs (median / p95): Batch's terminal state -> the record "
        "function's write (EventBridge -> SQS -> record function -> DynamoDB, all emulated here), and that "
        "write -> Snakemake noticing (the plugin's status Query every round):",
        "",
    ]
    for phase in ("simulated", "real"):
        for (_, n), row in sorted(table[phase].items(), key=lambda kv: kv[0][1]):
            if "split" in row:
                (a50, a95), (b50, b95) = row["split"]["to_record"], row["split"]["to_notice"]
                out.append(
                    f"- {n} {phase}: terminal -> recorded {_f(a50)} / {_f(a95)}; "
                    f"recorded -> noticed {_f(b50)} / {_f(b95)}"
                )
    out += ["", *scale.section(table, (plan.get("scale") or (None, None))[1])]
    handlers = table["handlers"]
    out += ["## Handlers", ""]
    if handlers:
        out += [
            f"- submit: {handlers['submit_cpu_per_job'] * 1000:.2f} ms CPU per job; record: "
            f"{handlers['record_cpu_per_job'] * 1000:.2f} ms CPU per job ({handlers['record_events']} events "
            f"for {handlers['jobs']} jobs, {handlers['record_cpu_per_event'] * 1000:.2f} ms per event). "
            "Measured by the Lambda worker around each invocation (`time.process_time()`), in the "
            f"{handlers['jobs']}-job simulated run of this plugin.",
        ]
        for kind in ("submit", "record"):
            split = handlers.get(kind) or {}
            ops = ", ".join(
                f"{op} {v['per_job']:.2f}/job x {v['ms_per_call']:.2f} ms"
                for op, v in split.get("ops", {}).items()
            )
            if ops:
                out.append(
                    f"- {kind} ({split.get('workers')} worker(s)): AWS calls per job and client CPU per call "
                    f"(botocore's `_make_api_call`: request building, signing, HTTP, parsing): {ops}; "
                    f"{split['rest_ms']:.2f} ms per job outside those calls (Powertools batch processing, "
                    "logging and metrics, spec/event parsing)."
                )
    out += [f"- {kind} handler init: {seconds * 1000:.0f} ms, its bare counterpart (boto3 and the same "
            f"clients): {table['import_bare'].get(kind, 0) * 1000:.0f} ms (the module and everything it does at "
            "module level, Powertools objects and clients included; a fresh process per sample, handler and "
            "bare samples alternating, medians)" for kind, seconds in sorted(table["imports"].items())]  # fmt: skip
    out += [f"- {kind}: first invocation of a freshly started worker, wall: {', '.join(values)}. Nothing is deferred from import to it; it includes waiting on the local cloud, busiest when the first run starts" for kind, values in sorted(table.get("first_invocation", {}).items())]  # fmt: skip
    out += NOTES
    other = {key: row["other_calls"] for key, row in table["simulated"].items()}
    if other:
        out += ["Calls outside status rounds (hand-off, storage checks, setup), largest simulated run:", ""]
        n = max(k[1] for k in other)
        for plugin in (OURS, THEIRS):
            calls = other.get((plugin, n), {})
            out.append(f"- {plugin}: " + ", ".join(f"{op} {c}" for op, c in sorted(calls.items())))
            done = table["simulated"].get((plugin, n), {}).get("postprocess")
            if done:
                out.append(
                    f"  - of them in Snakemake's post-processing of finished jobs: {postprocess_text(done)}"
                )
        out.append("")
    return "\n".join(out)


def render_png(table: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sim = table["simulated"]
    sizes = sorted({n for _, n in sim})
    fig, axes = plt.subplots(1, 4, figsize=(16, 4))
    width = 0.38
    panels = [
        ("status calls per round", lambda row: row["status"]["calls"], True),
        ("median detection (s)", lambda row: row["detect_median"], True),
        ("Snakemake hand-off (s)", lambda row: row["handoff"], True),
        ("makespan (s)", lambda row: row["makespan"], False),
    ]
    for ax, (title, get, log) in zip(axes, panels, strict=True):
        for offset, plugin in ((-width / 2, OURS), (width / 2, THEIRS)):
            values = [get(sim.get((plugin, n), {"status": {}})) if (plugin, n) in sim else 0 for n in sizes]
            ax.bar([i + offset for i in range(len(sizes))], [v or 0 for v in values], width, label=plugin)
        ax.set_xticks(range(len(sizes)), [f"{n} jobs" for n in sizes])
        ax.set_title(title)
        if log:
            ax.set_yscale("log")
    axes[0].legend(fontsize=8)
    fig.suptitle("aws-basic-batch-sls vs aws-basic-batch, same local cloud, simulated execution")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
