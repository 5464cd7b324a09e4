"""`aws-basic-batch-sls`: the operator CLI (runs, show, logs, cancel, start) against AWS or the local cloud."""

from __future__ import annotations

import sys

from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console

from .errors import CliError, describe_aws_error
from .parser import build_parser

__all__ = ["main"]


def main(argv: list[str] | None = None, console: Console | None = None) -> int:
    """Run one command; errors are one line on stderr and a non-zero exit code, never a traceback."""
    args = build_parser().parse_args(argv)
    out = console or Console(width=None if sys.stdout.isatty() else 200)
    err = Console(stderr=True, soft_wrap=True, highlight=False)
    try:
        return args.handler(args, out)
    except CliError as exc:
        err.print(f"aws-basic-batch-sls: {exc}", markup=False)
        return exc.exit_code
    except (ClientError, BotoCoreError) as exc:
        err.print(f"aws-basic-batch-sls: {describe_aws_error(exc)}", markup=False)
        return 1
    except KeyboardInterrupt:
        return 130
