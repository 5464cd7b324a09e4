"""Runs and jobs as rich tables."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rich.table import Table
from rich.text import Text

from sls_contract.job_record import JobRecord
from sls_contract.run_record import RunRecord
from sls_contract.status import JobStatus

_JOB_STYLE = {JobStatus.SUCCEEDED: "green", JobStatus.FAILED: "red"}
_RUN_STYLE = {"SUCCEEDED": "green", "FAILED": "red", "ABORTED": "magenta", "RUNNING": "cyan"}
_STATUS_ORDER = [status.value for status in JobStatus]
CAUSE_WIDTH = 60
REASON_WIDTH = 80


def _data(*cells: str | Text) -> list[Text]:
    """Cells from data (S3 keys, reasons, rule names) as plain Text: rich would read '[...]' in a
    string as markup (a key with '[/x]' raised an error, '[link=...]' became a link)."""
    return [cell if isinstance(cell, Text) else Text(cell) for cell in cells]


def shorten(text: str | None, width: int) -> str:
    """The first line, cut to width with an ellipsis."""
    if not text:
        return ""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= width else line[: width - 1] + "…"


def when(timestamp: str | None) -> str:
    """2026-05-01T12:00:00.123456Z -> 2026-05-01 12:00:00 (UTC)."""
    return timestamp[:19].replace("T", " ") if timestamp else "-"


def format_counts(counts: Mapping[str, int]) -> str:
    """Counts by status in lifecycle order: 'SUCCEEDED 2, FAILED 1'."""
    order = sorted(counts, key=lambda s: _STATUS_ORDER.index(s) if s in _STATUS_ORDER else len(_STATUS_ORDER))
    return ", ".join(f"{status} {counts[status]}" for status in order if counts[status]) or "-"


def run_status(status: str) -> Text:
    return Text(status, style=_RUN_STYLE.get(status, "yellow"))


def runs_table(runs: Iterable[tuple[RunRecord, Mapping[str, int]]]) -> Table:
    table = Table(title="runs, newest first")
    for column in ("run id", "status", "trigger", "created", "finished", "jobs", "cause"):
        table.add_column(column, no_wrap=column in ("run id", "created", "finished"))
    for run, counts in runs:
        table.add_row(
            *_data(
                run.run_id,
                run_status(run.status),
                run.trigger or "-",
                when(run.created_at),
                when(run.finished_at),
                format_counts(counts),
                shorten(run.cause, CAUSE_WIDTH),
            )
        )
    return table


def sort_jobs(records: Iterable[JobRecord]) -> list[JobRecord]:
    return sorted(records, key=JobRecord.sort_key)


def jobs_table(records: Iterable[JobRecord], title: str) -> Table:
    table = Table(title=title)
    for column in ("rule", "Batch job id", "status", "exit code", "attempts", "duration (s)", "reason"):
        table.add_column(column, no_wrap=column == "Batch job id")
    for r in records:
        duration = r.duration_seconds()
        table.add_row(
            *_data(
                r.rule_label(),
                r.batch_job_id or "-",
                Text(r.status, style=_JOB_STYLE.get(r.status, "yellow")),
                "-" if r.exit_code is None else str(r.exit_code),
                "-" if r.attempts is None else str(r.attempts),
                "-" if duration is None else f"{duration:.1f}",
                # a failure's reason, and what Batch says about a job it cannot place (RUNNABLE)
                shorten(r.status_reason, REASON_WIDTH)
                if r.status in (JobStatus.FAILED, JobStatus.RUNNABLE)
                else "",
            )
        )
    return table


def run_details(run: RunRecord, console_url: str | None) -> Table:
    """The run record as a two-column grid."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    rows: list[tuple[str, str | Text | None]] = [
        ("run", run.run_id),
        ("status", run_status(run.status)),
        ("trigger", run.trigger),
        ("execution", run.execution_arn),
        ("console", console_url),
        ("coordinator job", run.coordinator_job_id),
        ("cause", run.cause),
        ("cancel requested", run.cancel_reason),
        ("created", when(run.created_at)),
        ("started", when(run.started_at)),
        ("finished", when(run.finished_at)),
    ]
    for name, value in rows:
        if value:  # timestamps always show ("-" when not yet)
            grid.add_row(name, *_data(value))
    return grid
