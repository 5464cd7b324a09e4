"""The command line: global options (also from the plugin's environment variables) and subcommands."""

from __future__ import annotations

import argparse
import os

from . import commands
from .target import DEFAULT_STACK

ENV_PREFIX = "SNAKEMAKE_AWS_BASIC_BATCH_SLS_"


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _global_options(defaults: bool) -> argparse.ArgumentParser:
    """--stack/--region/--endpoint-url: on the main parser with their defaults, and on every
    subcommand without (argparse.SUPPRESS), so they work before or after the subcommand."""
    options = argparse.ArgumentParser(add_help=False)

    def default(value: str | None) -> str | None:
        return value if defaults else argparse.SUPPRESS

    options.add_argument(
        "--stack",
        default=default(os.environ.get(ENV_PREFIX + "STACK") or DEFAULT_STACK),
        help=f"deployed stack's name (env {ENV_PREFIX}STACK; default {DEFAULT_STACK})",
    )
    options.add_argument(
        "--region",
        default=default(os.environ.get(ENV_PREFIX + "REGION")),
        help=f"AWS region (env {ENV_PREFIX}REGION; default: the stack's, else boto3's)",
    )
    options.add_argument(
        "--endpoint-url",
        default=default(os.environ.get(ENV_PREFIX + "ENDPOINT_URL")),
        help=f"endpoint for every AWS service, e.g. the local cloud's (env {ENV_PREFIX}ENDPOINT_URL)",
    )
    return options


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aws-basic-batch-sls",
        description="Operate aws-basic-batch-sls runs: list, show, read logs, cancel, start.",
        parents=[_global_options(defaults=True)],
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = [_global_options(defaults=False)]

    runs = sub.add_parser("runs", parents=common, help="recent runs, newest first")
    runs.add_argument("--limit", type=_positive, default=20, help="how many runs (default 20)")
    runs.set_defaults(handler=commands.runs)

    show = sub.add_parser("show", parents=common, help="a run's record, its jobs and counts by status")
    show.add_argument("run_id", metavar="RUN_ID")
    show.set_defaults(handler=commands.show)

    logs = sub.add_parser("logs", parents=common, help="a job's CloudWatch log")
    logs.add_argument("run_id", metavar="RUN_ID")
    logs.add_argument("job", metavar="JOB", help="job id, Batch job id, rule name (one job) or 'coordinator'")
    logs.add_argument("--page-size", type=_positive, help="events per GetLogEvents call (default AWS's)")
    logs.set_defaults(handler=commands.logs)

    cancel = sub.add_parser("cancel", parents=common, help="stop a run and terminate its jobs")
    cancel.add_argument("run_id", metavar="RUN_ID")
    cancel.add_argument("--reason", default=commands.DEFAULT_CANCEL_REASON, help="recorded on the jobs")
    cancel.set_defaults(handler=commands.cancel)

    start = sub.add_parser("start", parents=common, help="start a run from a JSON or YAML run request")
    start.add_argument("request_file", metavar="REQUEST_FILE")
    start.add_argument("--run-id", help="run id (default: the request's, else generated)")
    start.set_defaults(handler=commands.start)
    return parser
