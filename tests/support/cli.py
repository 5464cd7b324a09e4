"""Running the operator CLI in-process against moto, and reading what it printed."""

from __future__ import annotations

import io

from rich.console import Console

from sls_contract.events import parse_state_change
from sls_contract.job_store import JobStore
from snakemake_executor_plugin_aws_basic_batch_sls.cli import main
from tests.support.cloud import REGION
from tests.support.events import state_change
from tests.support.specs import minimal_spec, model

STACK = "sls-test"


ARN = f"arn:aws:states:{REGION}:123456789012:execution:{STACK}-coordinator:run-b"


# Batch times from tests/events/batch_job_*.json: started 1767225662456, stopped 1767225781789 (ms).
DURATION = "119.3"


def cli(*argv: str) -> tuple[int, str]:
    """main(argv) in-process; (exit code, what it printed), wide enough that no cell wraps."""
    out = io.StringIO()
    code = main(["--stack", STACK, *argv], Console(file=out, width=250, color_system=None))
    return code, out.getvalue()


def rows(output: str) -> list[list[str]]:
    """The rows of rich tables (header first, drawn with heavy lines): cells stripped."""
    lines = [line.replace("┃", "│") for line in output.splitlines()]
    return [[cell.strip() for cell in line.split("│")[1:-1]] for line in lines if "│" in line]


def add_job(
    jobs: JobStore,
    run_id: str,
    job_id: str,
    rule: str,
    event: str | None = None,
    batch_job_id: str | None = None,
    log_stream: str | None = None,
) -> None:
    """A job as the control plane records it: claimed, maybe submitted, maybe with a Batch event."""
    spec = model(minimal_spec(run_id=run_id, job_id=job_id, rule=rule))
    jobs.claim(spec, "token", 300)
    if batch_job_id:
        jobs.mark_submitted(spec, batch_job_id, None)
    if event:
        change = state_change(event, run_id, job_id, jobId=batch_job_id)
        if log_stream:
            change["detail"]["container"]["logStreamName"] = log_stream
            for attempt in change["detail"].get("attempts", []):
                attempt["container"]["logStreamName"] = log_stream
        jobs.apply_state_change(parse_state_change(change).detail)
