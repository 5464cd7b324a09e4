"""The job spec: what the plugin puts on the jobs queue for one Snakemake job attempt.

The spec is versioned. A consumer rejects a version it does not know with a reason that says what
to upgrade, instead of guessing at fields it does not understand.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from . import limits
from .errors import InvalidJobSpec, describe_validation_error, in_words
from .job_record import JOB_ID_PATTERN, RUN_ID_PATTERN, record_keys

SPEC_VERSION = 1
# Version 2 adds array_size (an AWS Batch array job of that many Snakemake jobs); a stack that only
# knows version 1 refuses such a spec with "deploy the stack version that matches the plugin".
ARRAY_SPEC_VERSION = 2
SUPPORTED_SPEC_VERSIONS = (1, 2)

_JOB_NAME_RE = in_words(
    r"^[A-Za-z0-9][A-Za-z0-9_-]*$", "letters, digits, '-' and '_', starting with a letter or digit"
)
_ENV_NAME_RE = in_words(
    r"^[A-Za-z_][A-Za-z0-9_]*$",
    "an environment variable name: letters, digits and '_', not starting with a digit",
)
# AWS Batch evaluateOnExit globs: onExitCode holds digits; onReason/onStatusReason hold letters, digits,
# periods, colons and white space; either may end with one '*' (prefix match). Nothing else.
_EXIT_CODE_GLOB_RE = in_words(
    r"^[0-9]*\*?$", "digits, optionally ending with one '*' (AWS Batch matches a prefix; '*' only at the end)"
)
_REASON_GLOB_RE = in_words(
    r"^[A-Za-z0-9.:\s]*\*?$",
    "letters, digits, '.', ':' and spaces, optionally ending with one '*' (AWS Batch matches a prefix; "
    "'*' only at the end)",
)
_SECRET_ARN_RE = re.compile(r"^arn:aws[a-z-]*:(secretsmanager|ssm):[a-z0-9-]+:\d{12}:.+$")

JobName = Annotated[str, StringConstraints(pattern=_JOB_NAME_RE, max_length=limits.BATCH_JOB_NAME_MAX)]
EnvName = Annotated[str, StringConstraints(pattern=_ENV_NAME_RE)]
TagKey = Annotated[str, StringConstraints(min_length=1, max_length=limits.BATCH_TAG_KEY_MAX)]
TagValue = Annotated[str, StringConstraints(max_length=limits.BATCH_TAG_VALUE_MAX)]


class _AwsShape(BaseModel):
    """A structure that mirrors an AWS API shape: AWS's camelCase names, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class EvaluateOnExit(_AwsShape):
    action: Literal["RETRY", "EXIT"]
    onExitCode: (
        Annotated[str, StringConstraints(pattern=_EXIT_CODE_GLOB_RE, max_length=limits.BATCH_GLOB_MAX)] | None
    ) = None
    onReason: (
        Annotated[str, StringConstraints(pattern=_REASON_GLOB_RE, max_length=limits.BATCH_GLOB_MAX)] | None
    ) = None
    onStatusReason: (
        Annotated[str, StringConstraints(pattern=_REASON_GLOB_RE, max_length=limits.BATCH_GLOB_MAX)] | None
    ) = None

    @field_validator("action", mode="before")
    @classmethod
    def _action_upper(cls, value: Any) -> Any:
        # AWS documents the action as case-insensitive.
        return value.upper() if isinstance(value, str) else value


class RetryStrategy(_AwsShape):
    attempts: Annotated[int, Field(ge=limits.BATCH_RETRY_ATTEMPTS[0], le=limits.BATCH_RETRY_ATTEMPTS[1])] = 1
    evaluateOnExit: Annotated[list[EvaluateOnExit], Field(max_length=limits.BATCH_EVALUATE_ON_EXIT_MAX)] = []


class Secret(_AwsShape):
    name: EnvName
    valueFrom: str

    @field_validator("valueFrom")
    @classmethod
    def _is_secret_arn(cls, value: str) -> str:
        if not _SECRET_ARN_RE.match(value):
            raise ValueError(
                "must be the ARN of a Secrets Manager secret or an SSM parameter "
                "(arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME or "
                "arn:aws:ssm:REGION:ACCOUNT:parameter/NAME)"
            )
        return value


class ConsumableResource(_AwsShape):
    consumableResource: Annotated[str, StringConstraints(min_length=1)]
    quantity: Annotated[int, Field(ge=1)]


class JobSpec(BaseModel):
    """One Snakemake job attempt, ready to become exactly one AWS Batch job."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = SPEC_VERSION
    run_id: Annotated[str, StringConstraints(pattern=RUN_ID_PATTERN)]
    # The submission id: unique per Snakemake job attempt; the idempotency key of SubmitJob.
    job_id: Annotated[str, StringConstraints(pattern=JOB_ID_PATTERN)]
    workflow: str
    # A group job's rules, sorted and comma-separated ("a,b"); Snakemake's group id is in `group`.
    rule: str
    # Snakemake's job id: an int for a single job, a UUID string for a group job.
    snakemake_jobid: int | str
    group: str | None = None
    job_name: JobName
    job_queue: Annotated[str, StringConstraints(min_length=1)]
    job_definition: Annotated[str, StringConstraints(min_length=1)]
    command: Annotated[list[str], Field(min_length=1)]
    environment: dict[EnvName, str] = {}
    vcpu: Annotated[float, Field(gt=0)] = 1
    memory_mib: Annotated[int, Field(ge=1)] = 1024
    gpu: Annotated[int, Field(ge=0)] = 0
    timeout_seconds: Annotated[int, Field(ge=limits.BATCH_TIMEOUT_MIN_SECONDS)] | None = None
    retry_strategy: RetryStrategy | None = None
    scheduling_priority: (
        Annotated[int, Field(ge=limits.BATCH_PRIORITY[0], le=limits.BATCH_PRIORITY[1])] | None
    ) = None
    share_identifier: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = None
    secrets: list[Secret] = []
    consumable_resources: list[ConsumableResource] = []
    container_image: Annotated[str, StringConstraints(min_length=1)] | None = None
    tags: Annotated[dict[TagKey, TagValue], Field(max_length=limits.BATCH_TAGS_MAX)] = {}
    # An array job of this many children (sls_contract/arrays.py): job_id is the array's, each child's
    # record and command are in the jobs table already, and `command` starts the child's own command.
    array_size: Annotated[int, Field(ge=limits.BATCH_ARRAY_SIZE[0], le=limits.BATCH_ARRAY_SIZE[1])] | None = (
        None
    )

    @field_validator("version")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value not in SUPPORTED_SPEC_VERSIONS:
            raise ValueError(
                f"job spec version {value} is not supported by this stack (it understands "
                f"{list(SUPPORTED_SPEC_VERSIONS)}); deploy the stack version that matches the plugin"
            )
        return value

    @model_validator(mode="after")
    def _secret_names_unique(self) -> JobSpec:
        names = [secret.name for secret in self.secrets]
        duplicated = sorted({name for name in names if names.count(name) > 1})
        if duplicated:
            raise ValueError(f"secrets define {duplicated} more than once")
        clash = sorted(set(names) & set(self.environment))
        if clash:
            raise ValueError(f"{clash} are set both as secrets and as plain environment")
        if self.array_size is not None and self.version < ARRAY_SPEC_VERSION:
            raise ValueError(f"array_size needs job spec version {ARRAY_SPEC_VERSION} or later")
        return self

    def to_message(self) -> str:
        return self.model_dump_json(exclude_defaults=False)


def parse_job_spec(body: str | bytes | dict[str, Any]) -> JobSpec:
    """Parse a queue message body; anything unusable raises InvalidJobSpec with the reason."""
    try:
        if isinstance(body, dict):
            return JobSpec.model_validate(body)
        return JobSpec.model_validate_json(body)
    except ValidationError as exc:
        raise InvalidJobSpec(f"invalid job spec: {describe_validation_error(exc, JobSpec)}") from exc


def spec_keys(body: str | bytes) -> tuple[str, str] | None:
    """(run_id, job_id) of a body that failed validation, so its failure can be recorded under them;
    None when they are missing or not valid record keys (then the message id is used instead)."""
    try:
        data = json.loads(body)
    except (TypeError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    run_id, job_id = data.get("run_id"), data.get("job_id")
    return record_keys(run_id, job_id)
