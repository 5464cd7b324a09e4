"""The control plane's cost per 1,000 jobs at list prices (bench/prices.py), from what a run counted.

Counted in the run (RunResult):

- SQS: the plugin's own requests (bench/probe: every SQS call of the Snakemake process, weighted by
  64 KiB chunks of its request body, retries included); EventBridge's SendMessage of each Batch state
  change into the events queue (one per message the record function received); the Lambda side's
  receives that returned messages, deletes and visibility changes (the local Lambda worker counts the
  calls it makes as the event source mapping). Receives that came back empty are left out of the
  per-job figure: the local worker polls every second, an event source mapping on AWS long-polls
  whether or not jobs run, a standing cost per queue (STANDING below), not a cost per job.
- Lambda: invocations, and billed duration (each invocation's wall time rounded up to the millisecond,
  measured by the local worker) x the function's memory in template.yaml, at the arm64 price.
- DynamoDB: read and write request units of the run's partition, counted in the DynamoDB server from
  item sizes, index writes included (localcloud/dynamodb_meter.py): the submit and record functions'
  writes and reads and the plugin's status Queries.
- CloudWatch Logs: the bytes the handlers wrote (Powertools' JSON logs and EMF metrics) plus Lambda's
  own platform records per invocation (PLATFORM_LOG_BYTES, an estimate: not produced locally).
- EventBridge: Batch's state-change events on the default bus cost nothing, rule and delivery included.

Per run, amortized over its jobs: a coordinator run (template.yaml's state machine), when the run is
started through it rather than from the plugin: its state transitions on the success path of
statemachine/coordinator.asl.json, its custom "Run Succeeded" event, and the start and lifecycle
function invocations (requests only; their duration is not measured here).

Not counted: AWS Batch API calls (no charge), the jobs' own compute, S3 (Snakemake's storage, the
same with any executor), DynamoDB storage and the reconcile function's schedule (both small and per
day, not per job).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from . import prices

PLUGIN = "aws-basic-batch-sls"  # the runs whose cost is reported: this plugin's

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = REPO_ROOT / "template.yaml"
STATE_MACHINE = REPO_ROOT / "statemachine" / "coordinator.asl.json"
TARGET_USD_PER_1000 = 0.05
# Lambda's platform.start and platform.report records (JSON log format) per invocation: an estimate.
PLATFORM_LOG_BYTES = 600
# An idle SQS event source mapping on AWS: about five pollers, each a 20 s long poll (an estimate).
IDLE_POLLERS, LONG_POLL_SECONDS = 5, 20
# Lambda invocations per coordinator run besides the jobs': start_run once, run_lifecycle twice.
COORDINATOR_INVOCATIONS = 3
COORDINATOR_CUSTOM_EVENTS = 1


def function_memory(template: Path = TEMPLATE) -> dict[str, int]:
    """Logical id of each function -> its MemorySize in MB (its own, or the Globals')."""
    from localcloud.sam_template import load_template

    loaded = load_template(template)
    default = loaded.get("Globals", {}).get("Function", {}).get("MemorySize", 128)
    return {
        name: int(resource.get("Properties", {}).get("MemorySize", default))
        for name, resource in loaded["Resources"].items()
        if resource.get("Type") == "AWS::Serverless::Function"
    }


def sqs_event_sources(template: Path = TEMPLATE) -> int:
    """The functions' SQS event sources: each long-polls its queue on AWS, jobs or none."""
    from localcloud.sam_template import load_template

    return sum(
        event.get("Type") == "SQS"
        for resource in load_template(template)["Resources"].values()
        if resource.get("Type") == "AWS::Serverless::Function"
        for event in resource.get("Properties", {}).get("Events", {}).values()
    )


def success_transitions(asl: Path = STATE_MACHINE) -> int:
    """State transitions of one execution that succeeds at the first attempt: the states entered from
    StartAt to the first End."""
    states = json.loads(asl.read_text())
    name, count = states["StartAt"], 0
    while name:
        count += 1
        state = states["States"][name]
        name = None if state.get("End") or state.get("Type") in ("Succeed", "Fail") else state.get("Next")
    return count


def _logical_id(function_name: str, memory: dict[str, int]) -> str | None:
    return next((logical for logical in memory if logical in function_name), None)


def _item(name: str, quantity: float, price: prices.Price, how: str) -> dict[str, Any]:
    return {"name": name, "quantity": quantity, "unit": price.unit, "usd": quantity * price.usd, "how": how}


def run_cost(
    result: Any, memory: dict[str, int], transitions: int, per_jobs: int = 1000
) -> dict[str, Any] | None:
    """Cost of `result`'s run scaled to `per_jobs` jobs, item by item; None when the run has no counts."""
    if not result.lambda_delta or not result.n:
        return None
    scale = per_jobs / result.n
    probe = result.probe
    plugin_calls: dict[str, float] = dict(probe.get("other", {}))
    for status_round in probe.get("rounds", []):
        for op, count in status_round["calls"].items():
            plugin_calls[op] = plugin_calls.get(op, 0) + count
    chunks = probe.get("sqs_chunks") or {op: c for op, c in plugin_calls.items() if op.startswith("sqs.")}
    sqs_plugin = sum(chunks.values())

    functions = {
        logical: stats
        for name, stats in result.lambda_delta.items()
        if (logical := _logical_id(name, memory)) and stats.get("invocations")
    }
    worker = {op: 0 for op in ("receives", "empty", "deletes", "visibility")}
    invocations, gb_seconds, log_bytes, events_delivered = 0, 0.0, 0.0, 0
    for logical, stats in functions.items():
        calls = stats.get("worker_calls", {})
        worker["receives"] += calls.get("sqs.ReceiveMessage", 0)
        worker["empty"] += calls.get("sqs.ReceiveMessage (empty)", 0)
        worker["deletes"] += calls.get("sqs.DeleteMessageBatch", 0)
        worker["visibility"] += calls.get("sqs.ChangeMessageVisibilityBatch", 0)
        invocations += stats["invocations"]
        gb_seconds += stats.get("billed_ms", 0) / 1000 * memory[logical] / 1024
        log_bytes += stats.get("log_bytes", 0) + PLATFORM_LOG_BYTES * stats["invocations"]
        if logical == "RecordFunction":
            events_delivered += stats.get("records", 0)
    units = result.dynamodb_units or {}
    lambda_side = worker["receives"] + worker["deletes"] + worker["visibility"]
    items = [
        _item("SQS: the plugin's requests", sqs_plugin * scale, prices.SQS_REQUEST,
              "SendMessageBatch of job specs, queue checks (64 KiB chunks)"),
        _item("SQS: EventBridge -> events queue", events_delivered * scale, prices.SQS_REQUEST,
              "one SendMessage per Batch state change delivered"),
        _item("SQS: event source mappings", lambda_side * scale, prices.SQS_REQUEST,
              f"{worker['receives']} receives with messages, {worker['deletes']} delete batches, "
              f"{worker['visibility']} visibility batches in the run"),
        _item("Lambda requests", invocations * scale, prices.LAMBDA_REQUEST,
              ", ".join(f"{k} {v['invocations']}" for k, v in sorted(functions.items())) + " in the run"),
        _item("Lambda duration (arm64)", gb_seconds * scale, prices.LAMBDA_ARM_GB_SECOND,
              "billed ms x " + ", ".join(f"{k} {memory[k]} MB" for k in sorted(functions))),
        _item("DynamoDB writes", units.get("write_units", 0) * scale, prices.DYNAMODB_WRITE_UNIT,
              f"{units.get('writes', 0):.0f} writes ({units.get('failed_writes', 0):.0f} failed conditions) "
              "in the run, index writes included"),
        _item("DynamoDB reads", units.get("read_units", 0) * scale, prices.DYNAMODB_READ_UNIT,
              f"{units.get('reads', 0):.0f} reads (status Queries, cancel re-reads) in the run"),
        _item("EventBridge: Batch state changes", events_delivered * scale,
              prices.EVENTBRIDGE_AWS_SERVICE_EVENT, "AWS service events on the default bus: free"),
        _item("CloudWatch Logs ingestion", log_bytes / 1e9 * scale, prices.CLOUDWATCH_LOGS_GB,
              f"{log_bytes / max(1, result.n):.0f} bytes per job (handlers' output + "
              f"{PLATFORM_LOG_BYTES} bytes of platform records per invocation)"),
    ]  # fmt: skip
    # A coordinator run, amortized over this run's jobs (one run of result.n jobs).
    per_run = per_jobs / result.n
    items += [
        _item("Step Functions: coordinator run", transitions * per_run, prices.STEP_FUNCTIONS_TRANSITION,
              f"{transitions} transitions per run (success path), amortized over the run's {result.n} jobs"),
        _item("Coordinator: Lambda requests", COORDINATOR_INVOCATIONS * per_run, prices.LAMBDA_REQUEST,
              "start_run once, run_lifecycle twice per run, amortized"),
        _item("Coordinator: custom event", COORDINATOR_CUSTOM_EVENTS * per_run,
              prices.EVENTBRIDGE_CUSTOM_EVENT, "Run Succeeded on the default bus, per run, amortized"),
    ]  # fmt: skip
    total = sum(i["usd"] for i in items)
    return {
        "n": result.n,
        "per_jobs": per_jobs,
        "items": items,
        "total": total,
        "ok": total <= TARGET_USD_PER_1000 * per_jobs / 1000,
        "has_dynamodb": bool(units),
        "empty_receives": worker["empty"],
        "wall": result.wall_seconds,
    }


def standing_cost_per_day(queues: int | None = None) -> float:
    """Long polls of idle event source mappings (the template's, unless `queues` is given), per day,
    whatever the jobs."""
    queues = sqs_event_sources() if queues is None else queues
    requests = queues * IDLE_POLLERS * 86400 / LONG_POLL_SECONDS
    return requests * prices.SQS_REQUEST.usd


def usd(value: float) -> str:
    if value == 0:
        return "$0"
    digits = max(2, 1 - math.floor(math.log10(abs(value))) + 1)
    return f"${value:.{digits}f}"


# The report's lines (bench/report.py puts them in RESULTS.md).


def cost_figures(results: list[Any]) -> list[dict[str, Any]]:
    """Cost per 1,000 jobs of each run of this plugin that counted its calls (bench/cost.py), labelled;
    the one the target is judged on first: the 1,000-job simulated run (else the largest simulated)."""
    memory, transitions = function_memory(), success_transitions()
    rows = []
    for r in results:
        if r.plugin != PLUGIN:
            continue
        row = run_cost(r, memory, transitions)
        if row is None:
            continue
        prefix = r.run_id.split("-", 1)[0] if r.run_id else "bench"
        arrays = getattr(r, "array_min_size", 0) or "array" in prefix
        row["label"] = f"{r.n} {'simulated' if r.simulated else 'real'}" + (" with arrays" if arrays else "")
        row["simulated"], row["prefix"] = r.simulated, prefix
        rows.append(row)
    simulated = [row for row in rows if row["simulated"] and "arrays" not in row["label"]]
    judged = next((row for row in simulated if row["n"] == 1000), None) or max(
        simulated, key=lambda row: row["n"], default=None
    )
    return ([judged] if judged else []) + [row for row in rows if row is not judged]


def cost_target(table: dict[str, Any]) -> list[str]:
    rows = table.get("cost") or []
    name = f"cost: control plane per 1,000 jobs at list prices, target ≤ ${TARGET_USD_PER_1000:.2f}"
    if not rows:
        return [f"- **FAIL** {name}: measured n/a (no run of this plugin counted its calls)"]
    row = rows[0]
    parts = ", ".join(f"{i['name']} {usd(i['usd'])}" for i in row["items"] if i["usd"])
    verdict = "PASS" if row["ok"] and row["has_dynamodb"] else "FAIL"
    missing = "" if row["has_dynamodb"] else "; DynamoDB units not counted (no meter)"
    return [
        f"- **{verdict}** {name}: measured {usd(row['total'])} from the {row['label']} run "
        f"({parts}{missing}; see Cost)"
    ]


def _quantity(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.4g}"


def _unit_price(price: prices.Price) -> str:
    if 0 < price.usd < 1e-3:
        return f"${price.usd * 1e6:.4g} per 1M x {price.unit}"
    return f"${price.usd:.4g} per {price.unit}"


def cost_section(table: dict[str, Any]) -> list[str]:
    rows = table.get("cost") or []
    if not rows:
        return []
    row = rows[0]
    out = [
        "## Cost",
        "",
        f"The control plane's cost per 1,000 jobs at AWS list prices ({prices.REGION}, taken "
        f"{prices.PRICES_DATE}, `bench/prices.py`), from the calls counted in the {row['label']} run of "
        "this plugin (`bench/cost.py` says what is counted and how):",
        "",
        "| item | per 1,000 jobs | unit price | cost | counted |",
        "|---|---|---|---|---|",
    ]
    for item in row["items"]:
        unit_price = next((p for p in prices.ALL.values() if p.unit == item["unit"]), None)
        shown = "-" if unit_price is None else _unit_price(unit_price)
        out.append(
            f"| {item['name']} | {_quantity(item['quantity'])} | {shown} | {usd(item['usd'])} | {item['how']} |"
        )
    out.append(f"| **total** | | | **{usd(row['total'])}** | |")
    out += [
        "",
        "Cost per 1,000 jobs of every run of this plugin: "
        + "; ".join(f"{r['label']}: {usd(r['total'])}" for r in rows)
        + ".",
        "",
        "- SQS receives that came back empty are not in the per-job figure "
        f"({row['empty_receives']} in that run: the local worker polls every second). On AWS each event "
        "source mapping long-polls its queue whether jobs run or not: about "
        f"{IDLE_POLLERS} pollers x one 20 s poll each, for the {sqs_event_sources()} queues the functions read "
        f"{usd(standing_cost_per_day())} a day, "
        f"{usd(30 * standing_cost_per_day())} a month (an estimate), whatever the number of jobs.",
        "- Lambda duration is the local worker's wall time per invocation, rounded up to the millisecond; "
        "it includes waiting on the local cloud's DynamoDB and SQS, slower here than on AWS, so it is "
        "on the high side. Platform log records per invocation are an estimate "
        f"({PLATFORM_LOG_BYTES} bytes).",
        "- The coordinator lines apply to runs started through the state machine; a run started from "
        "Snakemake on a workstation does not pay them.",
        "",
        "Prices used:",
        "",
        *[f"- {name}: {_unit_price(p)} ({p.source})" for name, p in prices.ALL.items()],
        "",
    ]
    return out
