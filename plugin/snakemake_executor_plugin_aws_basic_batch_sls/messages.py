"""What the user reads when a job fails: exit code, reason, and where the log is."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError

from sls_contract import limits
from sls_contract.job_record import DEFAULT_LOG_GROUP, JobRecord

from .config import ControlPlane

if TYPE_CHECKING:
    from mypy_boto3_logs import CloudWatchLogsClient

# What Snakemake prints in a job's log for each rule that failed in it.
_ERROR_IN_RULE = re.compile(r"^Error in rule (\S+):")
# Log events read from the end of a failed job's stream to find its failed rules and its error.
LOG_TAIL_EVENTS = 1000
ERROR_LINES, ERROR_LINE_CHARS = 5, 300  # what of the error the message quotes
# Lines Snakemake itself writes around a job: its timestamp, the job block, "Execute N jobs...".
# (A group job's log indents each of its rules' blocks.)
_TIMESTAMP = re.compile(r"^\s*\[\w{3} \w{3} +\d+ [\d:]+ \d{4}\]")
_SNAKEMAKE_LINE = re.compile(
    r"^\s*(\[\w{3} \w{3} +\d+ [\d:]+ \d{4}\]|(local)?(rule|checkpoint) \S+:$|Execute \d+ jobs|Select jobs"
    r"|(input|output|log|benchmark|jobid|reason|wildcards|resources|threads|priority|message|shell)(:|$))"
)


def _console_links(region: str, record: JobRecord) -> list[str]:
    links = [
        f"https://{region}.console.aws.amazon.com/batch/home?region={region}#jobs/detail/{record.batch_job_id}"
    ]
    if record.log_stream:
        group = quote(quote(record.log_group or DEFAULT_LOG_GROUP, safe=""), safe="")
        stream = quote(quote(record.log_stream, safe=""), safe="")
        links.append(
            f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
            f"#logsV2:log-groups/log-group/{group}/log-events/{stream}"
        )
    return links


def log_tail(logs: CloudWatchLogsClient, record: JobRecord) -> list[str]:
    """The last lines of a job's log stream; empty when it cannot be read (no stream yet, no
    logs:GetLogEvents permission)."""
    if not record.log_stream:
        return []
    try:
        events = logs.get_log_events(
            logGroupName=record.log_group or DEFAULT_LOG_GROUP,
            logStreamName=record.log_stream,
            startFromHead=False,
            limit=LOG_TAIL_EVENTS,
        )["events"]
    except (ClientError, BotoCoreError):
        return []
    return [line for event in events for line in event["message"].splitlines()]


def failed_rules(lines: list[str]) -> list[str]:
    """The rules a job's log says failed ("Error in rule X:"). A group job runs several rules in one
    Batch job; this is how its failure names the rule."""
    rules: list[str] = []
    for line in lines:
        match = _ERROR_IN_RULE.match(line.strip())
        if match and match[1] not in rules:
            rules.append(match[1])
    return rules


class Quote(NamedTuple):
    title: str  # what the lines are
    lines: list[str]


def log_quote(lines: list[str], limit: int = ERROR_LINES) -> Quote:
    """What the failed command printed last before Snakemake's first "Error in rule X:" block (a
    traceback's end, a tool's complaint): up to `limit` lines, back to the rule's job block; none
    when it printed nothing there (its stderr went to the rule's log: file). A log without that
    block (Snakemake failed before running the rule, e.g. on the Snakefile): its last lines."""
    end = next((i for i, line in enumerate(lines) if _ERROR_IN_RULE.match(line.strip())), None)
    if end is None:
        return Quote("its log ends with", _cut(lines)[-limit:])
    if end > 0 and _TIMESTAMP.match(lines[end - 1]):  # Snakemake stamps its error block
        end -= 1
    start = end
    while start > 0 and not _SNAKEMAKE_LINE.match(lines[start - 1]):
        start -= 1
    return Quote("its log, before Snakemake's error", _cut(lines[start:end])[-limit:])


def _cut(lines: list[str]) -> list[str]:
    return [line[:ERROR_LINE_CHARS] for line in lines if line.strip()]


def failure_message(
    plane: ControlPlane, record: JobRecord, failed: list[str] | None = None, quote: Quote | None = None
) -> str:
    parts = [f"AWS Batch job {record.batch_job_id or '(never submitted)'} ({record.job_name}) FAILED"]
    if record.group:
        parts.append(
            f"group {record.group}: rule {', '.join(failed)} failed"
            if failed
            else f"group {record.group}: one of its rules ({record.rule}) failed; its log says which"
        )
    if record.exit_code is not None:
        parts.append(f"exit code {record.exit_code}")
    if record.attempts:
        parts.append(f"after {record.attempts} attempt(s)")
    parts.append(f"reason: {record.status_reason or 'none given'}")
    if record.log_stream:
        group = record.log_group or DEFAULT_LOG_GROUP
        parts.append(f"log: {group} {record.log_stream} (read it: {logs_command(plane, record)})")
    if record.batch_job_id and not plane.endpoint_url:
        parts.append("console: " + " ; ".join(_console_links(plane.region, record)))
    quoted = (
        f"\n    {quote.title}:" + "".join(f"\n        {line}" for line in quote.lines)
        if quote and quote.lines
        else ""
    )
    # Snakemake prints its own text right after the message: end the line.
    return "; ".join(parts) + quoted + "\n"


def logs_command(plane: ControlPlane, record: JobRecord) -> str:
    """The operator CLI command that prints this job's log."""
    endpoint = f" --endpoint-url {plane.endpoint_url}" if plane.endpoint_url else ""
    return f"aws-basic-batch-sls{endpoint} logs {record.run_id} {record.batch_job_id or record.job_id}"


def _where_to_look(plane: ControlPlane) -> str:
    dlq = f" and the dead-letter queue {plane.dead_letter_queue_url}" if plane.dead_letter_queue_url else ""
    return f"Check the submit function's logs{dlq}"


def _spec(job_info: Any, spec_id: str | None) -> str:
    if spec_id is not None and spec_id != job_info.external_jobid:
        return (
            f"the array job spec {spec_id} of job {job_info.external_jobid} ({job_info.aux.get('job_name')})"
        )
    return f"job spec {job_info.external_jobid} ({job_info.aux.get('job_name')})"


def grace_seconds(plane: ControlPlane, job_info: Any) -> float:
    """How long after it was sent a spec may go without a record: the configured grace, plus the time
    the specs this run had queued ahead of it take to reach Batch at the SubmitJob quota (so thousands
    of specs sent one by one are not declared lost while the queue is still draining)."""
    return plane.status_grace_seconds + job_info.aux.get("queued_ahead", 0) / limits.BATCH_SUBMIT_JOB_TPS


def _waited(plane: ControlPlane, job_info: Any) -> str:
    ahead = job_info.aux.get("queued_ahead", 0)
    extra = (
        f" ({plane.status_grace_seconds} s of grace and {ahead} specs of this run queued ahead of it at "
        f"{limits.BATCH_SUBMIT_JOB_TPS} a second)"
        if ahead
        else ""
    )
    return f"{grace_seconds(plane, job_info):.0f} s{extra}"


def stuck_message(plane: ControlPlane, job_info: Any, spec_id: str | None = None) -> str:
    return (
        f"{_spec(job_info, spec_id)} was taken by the submit function but never submitted to Batch in "
        f"{_waited(plane, job_info)} (the function may have failed on it until its message went to "
        f"the dead-letter queue). {_where_to_look(plane)}"
    )


def lost_message(plane: ControlPlane, job_info: Any, spec_id: str | None = None) -> str:
    return (
        f"no record of {_spec(job_info, spec_id)} {_waited(plane, job_info)} after it was sent: the submit "
        f"function has not handled it. {_where_to_look(plane)}; raise "
        "--aws-basic-batch-sls-status-grace-seconds if the queue is just long"
    )
