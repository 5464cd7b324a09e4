"""A run request: what to run as one whole workflow, with nobody's laptop attached.

It arrives as a JSON or YAML file uploaded under the stack bucket's request prefix, as the detail of
an EventBridge "Run Requested" event, or from the schedule; the coordinator job turns it into a
`snakemake --executor aws-basic-batch-sls ...` command line.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from .errors import ContractError, describe_validation_error, in_words

if TYPE_CHECKING:
    import yaml

RUN_REQUEST_VERSION = 1
BUNDLED = "bundled"
EVENT_SOURCE = "aws-basic-batch-sls"
RUN_REQUESTED = "Run Requested"
RUN_SUCCEEDED = "Run Succeeded"
RUN_FAILED = "Run Failed"
# also a valid Step Functions execution name
RUN_ID_PATTERN = in_words(r"^[A-Za-z0-9_-]{1,80}$", "1 to 80 letters, digits, '-' and '_'")
_STORAGE_PREFIX_PATTERN = in_words(
    r"^s3://[a-z0-9.-]{3,63}(/.*)?$", "an S3 URL, s3://BUCKET or s3://BUCKET/PREFIX (bucket in lower case)"
)

# Flags the coordinator sets itself; a request that sets them would fight the control plane.
_RESERVED_FLAGS = (
    "--executor",
    "-e",
    "--default-storage-provider",
    "--default-storage-prefix",
    "--jobs",
    "-j",
    "--aws-basic-batch-sls-",
    "--snakefile",
    "-s",
)
_ARCHIVE = re.compile(r"^s3://[a-z0-9.-]{3,63}/.+\.(tar\.gz|tgz|zip)$")


class InvalidRunRequest(ContractError):
    """The request can never run; the reason is recorded on the run."""


class RunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = RUN_REQUEST_VERSION
    run_id: Annotated[str, StringConstraints(pattern=RUN_ID_PATTERN)] | None = None
    # "bundled": the workflow is in the coordinator image (as the aws-basic-batch plugin expects);
    # or an s3://bucket/key.tar.gz|.tgz|.zip archive the coordinator fetches and unpacks.
    workflow_source: str = BUNDLED
    snakefile: str = "Snakefile"
    targets: list[str] = []
    config: dict[str, str | int | float | bool] = {}
    snakemake_args: list[str] = []
    storage_prefix: Annotated[str, StringConstraints(pattern=_STORAGE_PREFIX_PATTERN)]
    tags: dict[str, str] = {}
    jobs: Annotated[int, Field(ge=1, le=100_000)] = 100
    timeout_seconds: Annotated[int, Field(ge=60)] = 7 * 24 * 3600

    @field_validator("version")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value != RUN_REQUEST_VERSION:
            raise ValueError(
                f"run request version {value} is not supported (this stack reads {RUN_REQUEST_VERSION})"
            )
        return value

    @field_validator("workflow_source")
    @classmethod
    def _source(cls, value: str) -> str:
        if value != BUNDLED and not _ARCHIVE.match(value):
            raise ValueError(
                f"must be {BUNDLED!r} or an s3://bucket/key.tar.gz|.tgz|.zip archive, not {value!r}"
            )
        return value

    @field_validator("snakemake_args")
    @classmethod
    def _not_reserved(cls, value: list[str]) -> list[str]:
        clashing = [
            a for a in value if any(a == f or (f.endswith("-") and a.startswith(f)) for f in _RESERVED_FLAGS)
        ]
        clashing += [a for a in value if a.split("=", 1)[0] in _RESERVED_FLAGS]
        if clashing:
            raise ValueError(
                f"{sorted(set(clashing))} are set by the coordinator (use the request's own fields: "
                "snakefile, jobs, storage_prefix)"
            )
        return value


def _dumped(body: Any) -> bytes:
    try:
        return json.dumps(body).encode()
    except (TypeError, ValueError, RecursionError):
        return b""  # validation says what is wrong with it


def _where(exc: ValueError | yaml.YAMLError) -> str:
    """A parser error as one line: the problem and its line and column."""
    import yaml

    mark = getattr(exc, "problem_mark", None)
    if isinstance(exc, yaml.MarkedYAMLError) and mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: {exc.problem}"
    if isinstance(exc, json.JSONDecodeError):
        return f"line {exc.lineno}, column {exc.colno}: {exc.msg}"
    return str(exc).splitlines()[0]


# A run request is kept whole in the run's record (a DynamoDB item holds 400 KB) and travels in an
# EventBridge event (256 KB): larger ones are refused with the reason, before anything reads them whole.
MAX_RUN_REQUEST_BYTES = 128 * 1024


def _parse_text(body: str | bytes, filename: str, what: str) -> Any:
    # PyYAML is imported here, not at module level: only a request that arrives as text (an uploaded
    # file, start_run) needs it; the lifecycle function gets dicts and its cold start skips the import.
    import yaml

    try:
        if filename.endswith((".yaml", ".yml")):
            return yaml.safe_load(body)
        try:
            return json.loads(body)
        except (ValueError, RecursionError):
            return yaml.safe_load(body)
    except (ValueError, yaml.YAMLError) as exc:
        raise InvalidRunRequest(f"{what} is neither JSON nor YAML: {_where(exc)}") from exc
    except RecursionError as exc:
        raise InvalidRunRequest(f"{what} is nested too deeply to be a run request") from exc


def parse_run_request(body: str | bytes | dict[str, Any], filename: str = "") -> RunRequest:
    """JSON or YAML (by extension, else whichever parses); InvalidRunRequest says what is wrong."""
    what = f"run request {filename}" if filename else "run request"
    size = len(body.encode() if isinstance(body, str) else body if isinstance(body, bytes) else _dumped(body))
    if size > MAX_RUN_REQUEST_BYTES:
        raise InvalidRunRequest(
            f"{what} is over {MAX_RUN_REQUEST_BYTES // 1024} KiB, the most a run request may be: put large "
            "config in a file the workflow reads (e.g. under the storage prefix)"
        )
    data: Any = body if isinstance(body, dict) else _parse_text(body, filename, what)
    if not isinstance(data, dict):
        raise InvalidRunRequest(f"{what} must be a mapping, not {type(data).__name__}")
    try:
        return RunRequest.model_validate(data)
    except ValidationError as exc:
        raise InvalidRunRequest(f"invalid {what}: {describe_validation_error(exc, RunRequest)}") from exc


def snakemake_argv(request: RunRequest, workdir_snakefile: str | None = None) -> list[str]:
    """The coordinator's snakemake command line (the plugin's settings come from the environment)."""
    argv = [
        "--executor", "aws-basic-batch-sls",
        "--snakefile", workdir_snakefile or request.snakefile,
        "--jobs", str(request.jobs),
        "--default-storage-provider", "s3",
        "--default-storage-prefix", request.storage_prefix,
    ]  # fmt: skip
    if request.config:
        argv += [
            "--config",
            *(
                f"{k}={json.dumps(v) if isinstance(v, str) and ' ' in v else v}"
                for k, v in request.config.items()
            ),
        ]
    return [*argv, *request.snakemake_args, *request.targets]
