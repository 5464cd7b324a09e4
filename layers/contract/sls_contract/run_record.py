"""The run record: the run's control item in the jobs table (sort key RUN_CONTROL_JOB_ID)."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

RUNS_INDEX = "by_run_created"  # partition RUN_KIND_ATTRIBUTE, sort created_at: list runs newest first
RUN_KIND_ATTRIBUTE = "kind"
RUN_KIND = "run"
COORDINATOR_JOB_ID = "coordinator"  # the coordinator Batch job's record in the run's jobs


class RunStatus(StrEnum):
    REQUESTED = "REQUESTED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    ABORTED = "ABORTED"


RUN_TERMINAL = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.ABORTED})


class RunRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    run_id: str
    status: RunStatus = RunStatus.REQUESTED
    trigger: str | None = None
    request: dict[str, Any] | None = None  # stored as JSON (DynamoDB has no floats)
    execution_arn: str | None = None
    coordinator_job_id: str | None = None
    cause: str | None = None
    job_counts: dict[str, int] = {}
    created_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    cancel_reason: str | None = None

    @field_validator("request", mode="before")
    @classmethod
    def _parse_json(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value
