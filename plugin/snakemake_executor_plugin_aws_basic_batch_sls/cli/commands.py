"""The CLI's commands: each takes the parsed arguments and a console, and returns an exit code."""

from __future__ import annotations

import argparse
from pathlib import Path

from botocore.exceptions import ClientError
from pydantic import ValidationError
from rich.console import Console

from sls_contract.arrays import snakemake_jobs
from sls_contract.cancel import cancel_run
from sls_contract.errors import describe_validation_error
from sls_contract.job_store import JobStore
from sls_contract.run_record import RUN_TERMINAL, RunRecord, RunStatus
from sls_contract.run_request import (
    EVENT_SOURCE,
    RUN_REQUESTED,
    InvalidRunRequest,
    RunRequest,
    parse_run_request,
)
from sls_contract.run_store import RunStore, job_counts
from sls_contract.status import TERMINAL

from ..run_id import new_run_id
from .errors import CliError
from .logs import find_job, job_log
from .tables import format_counts, jobs_table, run_details, runs_table, sort_jobs
from .target import DEFAULT_STACK, Target, resolve_target

DEFAULT_CANCEL_REASON = "cancelled with aws-basic-batch-sls cancel"


def _target(args: argparse.Namespace) -> Target:
    return resolve_target(args.stack, args.region, args.endpoint_url)


def _stores(target: Target) -> tuple[RunStore, JobStore]:
    dynamodb = target.clients("dynamodb")
    return RunStore(dynamodb, target.jobs_table), JobStore(dynamodb, target.jobs_table)


def _no_run(run_id: str) -> CliError:
    return CliError(f"no run {run_id!r} in stack's jobs table (`aws-basic-batch-sls runs` lists recent runs)")


def _settled(run: RunRecord) -> bool:
    """A finished run whose recorded counts have every job at its end."""
    return run.status in RUN_TERMINAL and all(status in TERMINAL for status in run.job_counts)


def runs(args: argparse.Namespace, console: Console) -> int:
    run_store, job_store = _stores(_target(args))
    recent = run_store.recent(args.limit)
    if not recent:
        console.print("no runs yet")
        return 0
    # A finished run carries its counts; a live one's are read now (one Query each), and so are those of
    # a run stopped while jobs were still ending (Ctrl-C: the terminated jobs' ends are recorded later).
    rows = [
        (run, run.job_counts if _settled(run) else job_counts(job_store.run_jobs(run.run_id)))
        for run in recent
    ]
    console.print(runs_table(rows))
    return 0


def show(args: argparse.Namespace, console: Console) -> int:
    target = _target(args)
    run_store, job_store = _stores(target)
    run = run_store.get(args.run_id)
    records = sort_jobs(snakemake_jobs(job_store.run_jobs(args.run_id)))
    if run is None and not records:
        raise _no_run(args.run_id)
    if run is None:
        console.print(f"run {args.run_id}: no run record (started by snakemake directly, not by a trigger)")
    else:
        url = target.console_url(run.execution_arn) if run.execution_arn else None
        console.print(run_details(run, url))
    console.print(jobs_table(records, f"jobs of run {args.run_id}"))
    console.print(f"{len(records)} jobs: {format_counts(job_counts(records))}", highlight=False)
    return 0


def logs(args: argparse.Namespace, console: Console) -> int:
    target = _target(args)
    run_store, job_store = _stores(target)
    run = run_store.get(args.run_id)
    records = snakemake_jobs(job_store.run_jobs(args.run_id))
    if run is None and not records:
        raise _no_run(args.run_id)
    record = find_job(args.run_id, records, run, args.job)
    for event in job_log(target.clients("logs"), target.clients("batch"), record, args.page_size):
        console.out(event["message"], highlight=False)
    return 0


def _stop_execution(target: Target, execution_arn: str, reason: str, console: Console) -> None:
    try:
        target.clients("stepfunctions").stop_execution(
            executionArn=execution_arn, error="Cancelled", cause=reason
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ExecutionDoesNotExist":
            raise
        console.print(f"execution {execution_arn} no longer exists", highlight=False)
        return
    console.print(f"stopped execution {execution_arn} (the stack's clean-up marks the run ABORTED)")


def cancel(args: argparse.Namespace, console: Console) -> int:
    target = _target(args)
    run_store, job_store = _stores(target)
    run = run_store.get(args.run_id)
    if run is None and not job_store.run_jobs(args.run_id):
        raise _no_run(args.run_id)
    if run is not None and run.status in RUN_TERMINAL:
        console.print(f"run {args.run_id} is already {run.status}; nothing to cancel")
        return 0
    # REQUESTED with an ARN: the execution started but has not registered the run yet.
    if run is not None and run.execution_arn and run.status in (RunStatus.REQUESTED, RunStatus.RUNNING):
        _stop_execution(target, run.execution_arn, args.reason, console)
    summary = cancel_run(job_store, target.clients("batch"), args.run_id, args.reason)
    console.print(f"run {args.run_id} marked cancelled: no queued job of it will be submitted")
    console.print(
        f"terminated {len(summary.terminated)} Batch jobs"
        + (": " + ", ".join(summary.terminated) if summary.terminated else ""),
        highlight=False,
    )
    if summary.never_submitted:
        console.print(f"{len(summary.never_submitted)} jobs never submitted, marked FAILED")
    for error in summary.errors:
        console.print(f"[red]could not terminate[/] {error}", highlight=False)
    return 1 if summary.errors else 0


def _read_request(path: Path, run_id: str | None) -> tuple[str, RunRequest]:
    """The run id (given, the request's own, or a new one) and the request carrying it."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}", exit_code=2) from exc
    try:
        request = parse_run_request(text, path.name)
    except InvalidRunRequest as exc:
        raise CliError(str(exc), exit_code=2) from exc
    chosen = run_id or request.run_id or new_run_id()
    try:
        return chosen, RunRequest.model_validate({**request.model_dump(exclude_unset=True), "run_id": chosen})
    except ValidationError as exc:
        raise CliError(f"--run-id {chosen!r}: {describe_validation_error(exc)}", exit_code=2) from exc


def start(args: argparse.Namespace, console: Console) -> int:
    run_id, request = _read_request(Path(args.request_file), args.run_id)
    target = _target(args)
    run_store, job_store = _stores(target)
    existing = run_store.get(run_id)
    if existing is not None or job_store.run_jobs(run_id):
        status = f" ({existing.status})" if existing is not None else ""
        raise CliError(
            f"run {run_id!r} already exists{status}: a run id starts one run only; "
            "give another with --run-id, or leave it out for a new one",
            exit_code=2,
        )
    response = target.clients("events").put_events(
        Entries=[
            {
                "Source": EVENT_SOURCE,
                "DetailType": RUN_REQUESTED,
                "Detail": request.model_dump_json(exclude_unset=True),
            }
        ]
    )
    entry = response["Entries"][0]
    if response.get("FailedEntryCount"):
        raise CliError(
            f"EventBridge did not take the run request: {entry.get('ErrorCode')}: {entry.get('ErrorMessage')}"
        )
    console.print(f"requested run {run_id} (event {entry['EventId']})", highlight=False)
    options = "" if args.stack == DEFAULT_STACK else f" --stack {args.stack}"
    options += f" --endpoint-url {args.endpoint_url}" if args.endpoint_url else ""
    console.print(f"follow it: aws-basic-batch-sls{options} show {run_id}", highlight=False)
    return 0
