"""A run's jobs from DynamoDB, as a rich table."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from sls_contract.arrays import snakemake_jobs
from sls_contract.job_record import JobRecord
from sls_contract.job_store import JobStore

_STYLE = {"SUCCEEDED": "green", "FAILED": "red"}


def run_records(dynamodb: Any, table_name: str, run_id: str) -> list[JobRecord]:
    records = snakemake_jobs(JobStore(dynamodb, table_name).run_jobs(run_id))
    return sorted(records, key=JobRecord.sort_key)


def jobs_table(records: list[JobRecord], title: str) -> Table:
    table = Table(title=title)
    for column in ("rule", "Batch job id", "status", "exit code", "attempts", "duration (s)", "reason"):
        table.add_column(column)
    for r in records:
        duration = r.duration_seconds()
        table.add_row(
            r.rule_label(),
            r.batch_job_id or "-",
            f"[{_STYLE.get(r.status, 'yellow')}]{r.status}[/]",
            "-" if r.exit_code is None else str(r.exit_code),
            "-" if r.attempts is None else str(r.attempts),
            "-" if duration is None else f"{duration:.1f}",
            (r.status_reason or "")[:60] if r.status == "FAILED" else "",
        )
    return table
