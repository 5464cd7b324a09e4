"""The AWS events the run functions read, parsed leniently (only the fields used; AWS may add fields),
as events.py parses Batch's: S3's "Object Created" (a run request uploaded: start_run) and Step
Functions' "Execution Status Change" (an execution aborted, timed out or failed: run_lifecycle)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

EXECUTION_STATUS_CHANGE = "Step Functions Execution Status Change"


class _Lenient(BaseModel):
    """AWS's events, parsed for the fields used here only: AWS may add fields."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class S3Bucket(_Lenient):
    name: str


class S3Object(_Lenient):
    key: str
    version_id: str | None = Field(default=None, alias="version-id")
    etag: str | None = None
    eTag: str | None = None  # S3's own notifications spell it so; EventBridge's "etag"
    sequencer: str | None = None

    def version(self) -> str | None:
        """The object's version id; None without versioning (S3 says "null" then)."""
        return self.version_id if self.version_id not in (None, "null") else None

    def identity(self) -> str | None:
        """What tells one upload of the key from another: its version, else its ETag or sequencer."""
        return self.version() or self.etag or self.eTag or self.sequencer


class S3ObjectCreatedDetail(_Lenient):
    bucket: S3Bucket
    object: S3Object


class S3ObjectCreated(_Lenient):
    """EventBridge's "Object Created" (source aws.s3): a run request was uploaded."""

    source: Literal["aws.s3"]
    detail: S3ObjectCreatedDetail


class ExecutionName(_Lenient):
    """The part of a Step Functions status change that names the run: the execution's name."""

    name: str


class ExecutionStatusChangeDetail(ExecutionName):
    status: str  # ABORTED, TIMED_OUT, FAILED (the rule's pattern); others as AWS adds them
    executionArn: str | None = None
    error: str | None = None
    cause: str | None = None


class ExecutionStatusChange(_Lenient):
    """EventBridge's "Step Functions Execution Status Change" (source aws.states)."""

    detail_type: Literal["Step Functions Execution Status Change"] = Field(alias="detail-type")
    detail: ExecutionStatusChangeDetail
