"""Domain errors raised by the contract and the handlers."""

from __future__ import annotations

from pydantic import ValidationError


class ContractError(Exception):
    """Base class of every error the contract raises on purpose."""


class InvalidJobSpec(ContractError):
    """A job spec that can never be submitted: fix the workflow or the plugin, not the queue."""


class PermanentSubmitError(ContractError):
    """Batch rejected the job for a reason a retry cannot fix (unknown queue or definition, bad value)."""


class RetryableSubmitError(ContractError):
    """Batch was throttled or failed on its side; the message goes back to the queue."""


def describe_validation_error(exc: ValidationError) -> str:
    """One line per problem, naming the field path and what is wrong, without pydantic's URL noise."""
    lines = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(part) for part in err["loc"]) or "(root)"
        lines.append(f"{where}: {err['msg']}")
    return "; ".join(lines)
