"""Domain errors raised by the contract and the handlers."""

from __future__ import annotations

import difflib
import typing
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

# The contract's regular expressions in words: a value that does not match is explained with these,
# not with the regex (register with `in_words` where the pattern is defined).
PATTERN_WORDS: dict[str, str] = {}


def in_words(pattern: str, words: str) -> str:
    """Register what `pattern` allows, in words; returns the pattern."""
    PATTERN_WORDS[pattern] = words
    return pattern


class ContractError(Exception):
    """Base class of every error the contract raises on purpose."""


class InvalidJobSpec(ContractError):
    """A job spec that can never be submitted: fix the workflow or the plugin, not the queue."""


class PermanentSubmitError(ContractError):
    """Batch rejected the job for a reason a retry cannot fix (unknown queue or definition, bad value).

    code: AWS's error code (ClientError's Error.Code), when the error came from AWS."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class RetryableSubmitError(ContractError):
    """Batch was throttled or failed on its side; the message goes back to the queue.

    throttled: Batch said so, so the call did nothing; otherwise (a 5xx, a lost connection) it may
    have, and the next delivery looks for the job before submitting again."""

    def __init__(self, message: str, throttled: bool = False, code: str | None = None) -> None:
        super().__init__(message)
        self.throttled = throttled
        self.code = code


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in typing.get_args(annotation) for model in _models_in(arg)]


def _fields_at(model: type[BaseModel], path: tuple[int | str, ...]) -> list[str]:
    """The field names of the (nested) model at `path` of a validation error's location."""
    models = [model]
    for part in path:
        if isinstance(part, int):
            continue  # a list index: same model
        fields = [m.model_fields[part] for m in models if part in m.model_fields]
        models = [nested for field in fields for nested in _models_in(field.annotation)]
    return sorted({name for m in models for name in m.model_fields})


def explain(err: ErrorDetails, model: type[BaseModel] | None = None) -> str:
    """What is wrong, in words: a close match for an unknown field, what a pattern allows."""
    if err["type"] == "extra_forbidden" and model is not None and err["loc"]:
        known = _fields_at(model, tuple(err["loc"][:-1]))
        guess = difflib.get_close_matches(str(err["loc"][-1]), known, n=1)
        return "unknown field" + (
            f" (did you mean {guess[0]!r}?)" if guess else f"; known fields: {', '.join(known)}"
        )
    if err["type"] == "string_pattern_mismatch":
        words = PATTERN_WORDS.get(str(err.get("ctx", {}).get("pattern")))
        if words:
            return f"{err['input']!r} is not allowed: {words}"
    return err["msg"]


def describe_validation_error(exc: ValidationError, model: type[BaseModel] | None = None) -> str:
    """One clause per problem, naming the field path and what is wrong, without pydantic's URL noise.

    With the model that was validated, an unknown field gets a "did you mean".
    """
    lines = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(part) for part in err["loc"]) or "(root)"
        lines.append(f"{where}: {explain(err, model)}")
    return "; ".join(lines)
