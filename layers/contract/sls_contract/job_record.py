"""The job record: one DynamoDB item per Snakemake job attempt, and the table's keys."""

from __future__ import annotations

import re
import zlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from pydantic import BaseModel, ConfigDict

from .status import JobStatus

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

# Table layout (template.yaml's JobsTable declares the same names; tests check they agree).
PARTITION_KEY = "run_id"
SORT_KEY = "job_id"
UPDATES_INDEX = "by_update"  # partition run_id, sort updated_at: "what changed since"
UPDATED_AT = "updated_at"
LIVE_INDEX = "live_jobs"  # partition live_shard, sort updated_at: submitted jobs not final yet (sparse)
LIVE_SHARD = "live_shard"
LIVE_SHARDS = 16  # spreads the index's writes; the sweep queries each shard
EXPIRES_AT = "expires_at"  # DynamoDB TTL attribute
# A run's items that are not job records have sort keys starting with this (no job id can): the run's
# control item, and array children's commands (arrays.py). They have no updated_at, so they never show
# up in the updates index.
RESERVED_KEY_PREFIX = "#"
RUN_CONTROL_JOB_ID = f"{RESERVED_KEY_PREFIX}run"

# Environment variables that the SubmitJob request gives every job; Batch state-change events carry
# container.environment, so this is how an event finds its record (events have no tags).
RUN_ID_ENV = "SLS_RUN_ID"
JOB_ID_ENV = "SLS_JOB_ID"
# The jobs table a job belongs to (one per stack): the record function records only its own stack's
# jobs, even when another stack (or anyone) submits jobs with SLS_RUN_ID / SLS_JOB_ID to the same queue.
TABLE_ENV = "SLS_TABLE"

DEFAULT_LOG_GROUP = "/aws/batch/job"

# What a job record's keys may be (the job spec's run_id / job_id). Keys read from anything else (an
# event's environment, a rejected message) are checked against these before any write, so no input
# can write onto the run's control item (RUN_CONTROL_JOB_ID) or another odd key.
RUN_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,80}$"
JOB_ID_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"


def child_job_id(array_job_id: str, index: int) -> str:
    """The record key of child `index` of an array job (arrays.py) whose own record key is given."""
    return f"{array_job_id}-{index}"


def shard_key(shard: int) -> str:
    """The live-jobs index's partition value of shard number `shard` (0 <= shard < LIVE_SHARDS)."""
    return f"live#{shard}"


def live_shard(job_id: str) -> str:
    return shard_key(zlib.crc32(job_id.encode()) % LIVE_SHARDS)


def valid_record_keys(run_id: object, job_id: object) -> bool:
    return (
        isinstance(run_id, str)
        and isinstance(job_id, str)
        and re.fullmatch(RUN_ID_PATTERN, run_id) is not None
        and re.fullmatch(JOB_ID_PATTERN, job_id) is not None
    )


def record_keys(run_id: object, job_id: object) -> tuple[str, str] | None:
    """(run_id, job_id) when both are valid record keys, else None."""
    if isinstance(run_id, str) and isinstance(job_id, str) and valid_record_keys(run_id, job_id):
        return run_id, job_id
    return None


class JobRecord(BaseModel):
    """What the table holds about one job attempt. Every field but the keys may be absent."""

    model_config = ConfigDict(extra="ignore")

    run_id: str
    job_id: str
    status: JobStatus = JobStatus.SUBMITTING
    progress: int = 0
    updated_at: str | None = None
    expires_at: int | None = None
    rule: str | None = None
    workflow: str | None = None
    snakemake_jobid: int | str | None = None
    group: str | None = None
    job_name: str | None = None
    job_queue: str | None = None
    job_definition: str | None = None
    batch_job_id: str | None = None
    job_arn: str | None = None
    status_reason: str | None = None
    exit_code: int | None = None
    attempts: int | None = None
    log_stream: str | None = None
    log_group: str | None = None
    created_at: str | None = None
    submitted_at: str | None = None
    started_at: int | None = None  # epoch ms, as Batch reports it
    stopped_at: int | None = None  # epoch ms
    claimed_at: int | None = None  # epoch s; the submit function's lease on the spec
    claim_token: str | None = None
    live_shard: str | None = None  # set while the job is submitted and not final (LIVE_INDEX)
    submit_uncertain: bool | None = None  # a SubmitJob of it may have reached Batch without an answer
    # Array jobs (sls_contract/arrays.py): the array's own record holds array_size; each child's record
    # (one per Snakemake job) holds the array record's job id and its index in the array.
    array_size: int | None = None
    array_job_id: str | None = None
    array_index: int | None = None

    def sort_key(self) -> tuple[str, int, str, str]:
        """Creation order, then Snakemake's job id (ints before a group's UUID), for tables."""
        jobid = self.snakemake_jobid
        number = jobid if isinstance(jobid, int) else -1
        return (self.created_at or "", number, str(jobid or ""), self.job_id)

    def rule_label(self) -> str:
        """What a table shows in its rule column: the rule, or a group's rules and group id."""
        rule = self.rule or self.job_id
        if self.is_array():
            return f"{rule} (array of {self.array_size})"
        return f"{rule} (group {self.group})" if self.group else rule

    def is_array(self) -> bool:
        """The record of a Batch array job itself (its children are the Snakemake jobs)."""
        return self.array_size is not None

    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.stopped_at is None:
            return None
        return (self.stopped_at - self.started_at) / 1000


FIELDS = frozenset(JobRecord.model_fields)

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


ISO_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def now_iso() -> str:
    """UTC timestamp with microseconds; sorts lexicographically, so it can be an index sort key."""
    return datetime.now(UTC).strftime(ISO_FORMAT)


def item_key(run_id: str, job_id: str) -> dict[str, dict[str, str]]:
    return {PARTITION_KEY: {"S": run_id}, SORT_KEY: {"S": job_id}}


def serialize(value: Any) -> AttributeValueTypeDef:
    return _serializer.serialize(value)


def record_from_item(item: dict[str, Any]) -> JobRecord:
    plain = {name: _deserializer.deserialize(value) for name, value in item.items()}
    return JobRecord.model_validate(plain)


def check_fields(names: Any) -> None:
    """Guard against writing an attribute the record does not define (one definition of every name)."""
    unknown = set(names) - FIELDS
    if unknown:
        raise KeyError(f"not JobRecord fields: {sorted(unknown)}")
