"""Errors the CLI reports as one readable line (no traceback) and the exit code for each."""

from __future__ import annotations

from ..aws_errors import describe_aws_error

__all__ = ["CliError", "describe_aws_error"]


class CliError(Exception):
    """A problem the user can fix; the message says how. exit_code 2 is a bad input, 1 the rest."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code
