"""The "Batch Job State Change" event (source aws.batch), parsed leniently: AWS may add fields."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .job_record import JOB_ID_ENV, RUN_ID_ENV, TABLE_ENV, child_job_id, record_keys
from .status import JobStatus

DETAIL_TYPE = "Batch Job State Change"
SOURCE = "aws.batch"


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class KeyValue(_Lenient):
    name: str
    value: str = ""


class ContainerDetail(_Lenient):
    exitCode: int | None = None
    reason: str | None = None
    logStreamName: str | None = None
    environment: list[KeyValue] = []


class AttemptDetail(_Lenient):
    container: ContainerDetail | None = None
    startedAt: int | None = None
    stoppedAt: int | None = None
    statusReason: str | None = None


class ArrayProperties(_Lenient):
    index: int | None = None  # set on an array's children
    size: int | None = None  # set on the array (parent) job


class BatchJobStateChangeDetail(_Lenient):
    jobArn: str | None = None
    jobName: str
    jobId: str
    jobQueue: str | None = None
    jobDefinition: str | None = None
    status: JobStatus
    statusReason: str | None = None
    attempts: list[AttemptDetail] = []
    createdAt: int | None = None
    startedAt: int | None = None
    stoppedAt: int | None = None
    container: ContainerDetail | None = None
    parameters: dict[str, str] = {}
    arrayProperties: ArrayProperties | None = None

    def environment(self) -> dict[str, str]:
        return {kv.name: kv.value for kv in (self.container.environment if self.container else [])}

    def record_keys(self, table: str | None = None) -> tuple[str, str] | None:
        """(run_id, job_id) for jobs of this control plane; None for anyone else's job. With `table`,
        only jobs submitted for that jobs table (one stack's) count."""
        env = self.environment()
        return keys_from_environment(env, table, self.arrayProperties.index if self.arrayProperties else None)

    def exit_code(self) -> int | None:
        if self.container and self.container.exitCode is not None:
            return self.container.exitCode
        last = self.attempts[-1] if self.attempts else None
        return last.container.exitCode if last and last.container else None

    def log_stream(self) -> str | None:
        if self.container and self.container.logStreamName:
            return self.container.logStreamName
        last = self.attempts[-1] if self.attempts else None
        return last.container.logStreamName if last and last.container else None

    def reason(self) -> str | None:
        """The most specific reason: the container's (e.g. OutOfMemoryError) before the job's."""
        container_reason = self.container.reason if self.container else None
        if self.status == JobStatus.FAILED and container_reason:
            return f"{self.statusReason}: {container_reason}" if self.statusReason else container_reason
        return self.statusReason


def keys_from_environment(
    env: dict[str, str], table: str | None = None, array_index: int | None = None
) -> tuple[str, str] | None:
    """(run_id, job_id) from a job's environment (an array child's job id from its array's and its
    index); None unless they are valid record keys, and, with `table`, the job is that table's."""
    run_id, job_id = env.get(RUN_ID_ENV), env.get(JOB_ID_ENV)
    if table is not None and env.get(TABLE_ENV) != table:
        return None
    if array_index is not None and job_id is not None:
        job_id = child_job_id(job_id, array_index)
    return record_keys(run_id, job_id)


class BatchJobStateChange(_Lenient):
    """The EventBridge envelope around the detail."""

    id: str
    detail_type: str = Field(alias="detail-type")
    source: str
    time: str | None = None
    region: str | None = None
    detail: BatchJobStateChangeDetail

    def age_ms(self, now: float) -> float | None:
        """Milliseconds from the event's time (when Batch's job changed state) to ``now`` (epoch
        seconds); None when the event carries no readable time."""
        try:
            sent = datetime.fromisoformat(self.time) if self.time else None
        except ValueError:
            return None
        if sent is None or sent.tzinfo is None:
            return None
        return max(0.0, (now - sent.timestamp()) * 1000)


def parse_state_change(body: str | bytes | dict[str, Any]) -> BatchJobStateChange:
    if isinstance(body, dict):
        return BatchJobStateChange.model_validate(body)
    return BatchJobStateChange.model_validate_json(body)
