"""The run lifecycle: starting runs from triggers, and what the coordinator state machine asks for."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, ValidationError

from .cancel import cancel_run
from .errors import ContractError, describe_validation_error
from .job_record import JOB_ID_ENV, RUN_ID_ENV, TABLE_ENV
from .job_store import JobStore
from .run_events import EXECUTION_STATUS_CHANGE, ExecutionName, ExecutionStatusChange, S3ObjectCreated
from .run_record import COORDINATOR_JOB_ID, RunStatus
from .run_request import (
    EVENT_SOURCE,
    MAX_RUN_REQUEST_BYTES,
    RUN_FAILED,
    RUN_REQUESTED,
    InvalidRunRequest,
    RunRequest,
    parse_run_request,
)
from .run_store import RunStore, job_counts
from .tags import RUN_ID_TAG, STACK_TAG

if TYPE_CHECKING:
    from mypy_boto3_batch import BatchClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_stepfunctions import SFNClient

RUN_REQUEST_ENV = "SLS_RUN_REQUEST"
STACK_ENV = "SNAKEMAKE_AWS_BASIC_BATCH_SLS_STACK"  # the plugin's own setting, read inside the coordinator
PLUGIN_RUN_ID_ENV = "SNAKEMAKE_AWS_BASIC_BATCH_SLS_RUN_ID"
COORDINATOR_COMMAND = ["python", "-m", "snakemake_executor_plugin_aws_basic_batch_sls.coordinate"]
SCHEDULE_TRIGGER = "schedule"


def _digest(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:20]


@dataclass(frozen=True)
class StartOutcome:
    run_id: str
    started: bool  # False: a duplicate trigger of a run that already exists, or a rejected request
    execution_arn: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Trigger:
    """What a trigger event asks for, before validation."""

    run_id: str
    trigger: str
    body: Any
    filename: str = ""


def read_trigger(event: dict[str, Any], s3: S3Client | None) -> Trigger:
    """The run id (stable across duplicate deliveries of the same trigger) and the raw request."""
    detail = event.get("detail") or {}
    if event.get("source") == "aws.s3":
        return _read_upload(event, s3)
    if event.get("source") == EVENT_SOURCE and event.get("detail-type") == RUN_REQUESTED:
        requested = detail.get("run_id") if isinstance(detail, dict) else None
        return Trigger(requested or f"event-{_digest(event.get('id'))}", f"event:{event.get('id')}", detail)
    if event.get("trigger") == SCHEDULE_TRIGGER:
        # Each firing is a new run; a duplicate delivery of one firing has the same time.
        request = dict(event.get("request") or {})
        request.pop("run_id", None)
        return Trigger(
            f"schedule-{_digest(event.get('time'), json.dumps(request, sort_keys=True))}",
            SCHEDULE_TRIGGER,
            request,
        )
    raise InvalidRunRequest(
        f"not a run trigger: source {event.get('source')!r}, detail-type {event.get('detail-type')!r}"
    )


def _read_upload(event: dict[str, Any], s3: S3Client | None) -> Trigger:
    try:
        created = S3ObjectCreated.model_validate(event)
    except ValidationError as exc:
        raise InvalidRunRequest(
            f"not a run trigger: a malformed S3 event ({describe_validation_error(exc)})"
        ) from exc
    if s3 is None:
        raise TypeError("reading an uploaded run request needs an S3 client")
    bucket, obj = created.detail.bucket.name, created.detail.object
    version = obj.version()
    if version:
        body = s3.get_object(Bucket=bucket, Key=obj.key, VersionId=version)
    else:
        body = s3.get_object(Bucket=bucket, Key=obj.key)
    run_id = f"upload-{_digest(bucket, obj.key, obj.identity())}"
    # At most one byte past the limit: parse_run_request refuses what is larger, nothing reads it whole.
    return Trigger(run_id, f"s3://{bucket}/{obj.key}", body["Body"].read(MAX_RUN_REQUEST_BYTES + 1), obj.key)


class RunStarter:
    """Starts runs: from trigger events (handle, which reads uploads with `s3`), or from a request
    (start, which needs no S3 client: the plugin's coordinator mode passes None)."""

    def __init__(self, s3: S3Client | None, sfn: SFNClient, runs: RunStore, state_machine_arn: str) -> None:
        self.s3 = s3
        self.sfn = sfn
        self.runs = runs
        self.state_machine_arn = state_machine_arn

    def handle(self, event: dict[str, Any]) -> StartOutcome:
        trigger = read_trigger(event, self.s3)
        try:
            request = parse_run_request(trigger.body, trigger.filename)
        except InvalidRunRequest as exc:
            run_id = trigger.run_id
            if not self.runs.create(run_id, trigger.trigger, None):
                existing = self.runs.get(run_id)
                if existing is not None and existing.cause == str(exc):
                    return StartOutcome(run_id, False, reason=str(exc))  # a duplicate delivery of it
                # A trigger can only create a run, never change one: the rejection gets a record of its own.
                run_id = f"rejected-{_digest(trigger.trigger, run_id)}"
                self.runs.create(run_id, trigger.trigger, None)
                exc = InvalidRunRequest(
                    f"{exc} (it named run {trigger.run_id}, which exists: left unchanged)"
                )
            self.runs.finish(run_id, RunStatus.FAILED, str(exc), {})
            return StartOutcome(run_id, False, reason=str(exc))
        run_id = request.run_id or trigger.run_id
        return self.start(run_id, trigger.trigger, request)

    def start(self, run_id: str, trigger: str, request: RunRequest) -> StartOutcome:
        """Start the run once: the run record is the gate, the execution name (= run id) the backstop."""
        request = request.model_copy(update={"run_id": run_id})
        if not self.runs.create(run_id, trigger, request.model_dump()):
            existing = self.runs.get(run_id)
            if existing is None or existing.execution_arn or existing.status != RunStatus.REQUESTED:
                return StartOutcome(run_id, False, reason="a run with this id was already started")
            # else: an earlier attempt recorded the run but died before StartExecution: finish its work
        execution_input = json.dumps({"run_id": run_id, "trigger": trigger, "request": request.model_dump()})
        try:
            response = self.sfn.start_execution(
                stateMachineArn=self.state_machine_arn, name=run_id, input=execution_input
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ExecutionAlreadyExists":
                return StartOutcome(run_id, False, reason="a run with this id was already started")
            raise
        self.runs.started(run_id, response["executionArn"])
        return StartOutcome(run_id, True, response["executionArn"])


class Lifecycle:
    """The coordinator state machine's steps (lambda:invoke) and its abort/timeout clean-up."""

    def __init__(
        self, runs: RunStore, jobs: JobStore, batch: BatchClient, events: EventBridgeClient, stack_name: str
    ) -> None:
        self.runs = runs
        self.jobs = jobs
        self.batch = batch
        self.events = events
        self.stack_name = stack_name

    def register(self, execution_input: dict[str, Any], execution_arn: str) -> dict[str, Any]:
        """Mark the run RUNNING and return the coordinator job's name, command and environment."""
        request = parse_run_request(execution_input.get("request") or {})
        run_id = execution_input.get("run_id") or request.run_id
        if not run_id:
            raise InvalidRunRequest("the execution input names no run_id")
        self.runs.start(run_id, execution_arn, execution_input.get("trigger"), request.model_dump())
        environment = {
            RUN_ID_ENV: run_id,
            JOB_ID_ENV: COORDINATOR_JOB_ID,
            TABLE_ENV: self.jobs.table_name,
            RUN_REQUEST_ENV: request.model_dump_json(),
            STACK_ENV: self.stack_name,
            PLUGIN_RUN_ID_ENV: run_id,
        }
        return {
            "run_id": run_id,
            "job_name": f"snakemake-coordinator-{run_id}"[:128],
            "command": COORDINATOR_COMMAND,
            "environment": [{"Name": k, "Value": v} for k, v in environment.items()],
            "timeout_seconds": request.timeout_seconds,
            "tags": {
                **request.tags,
                RUN_ID_TAG: run_id,
                **({STACK_TAG: self.stack_name} if self.stack_name else {}),
            },
        }

    def succeeded(self, run_id: str, coordinator_job_id: str | None) -> dict[str, Any]:
        counts = job_counts(self.jobs.run_jobs(run_id))
        self.runs.finish(run_id, RunStatus.SUCCEEDED, None, counts, coordinator_job_id)
        return {"run_id": run_id, "status": RunStatus.SUCCEEDED.value, "job_counts": counts}

    def failed(self, run_id: str, cause: str, status: RunStatus = RunStatus.FAILED) -> dict[str, Any]:
        """Terminate every job of the run that is not finished, then record why (unless the run's
        record is final already: ``recorded`` says which)."""
        summary = cancel_run(self.jobs, self.batch, run_id, f"run {status.value.lower()}: {cause}"[:1000])
        counts = job_counts(self.jobs.run_jobs(run_id))
        recorded = self.runs.finish(run_id, status, cause, counts)
        return {
            "run_id": run_id,
            "status": status.value,
            "cause": cause,
            "recorded": recorded,
            "terminated": len(summary.terminated),
            "not_terminated": summary.errors,  # "job id: why"; CleanupIncomplete makes someone retry
            "job_counts": counts,
        }

    def execution_stopped(self, event: dict[str, Any]) -> dict[str, Any]:
        """A "Step Functions Execution Status Change" ABORTED / TIMED_OUT / FAILED.

        Abort and time-out run no Catch; FAILED normally follows the machine's own clean-up, but an
        error no Catch sees (States.Runtime, or the clean-up step failing) ends there too. So: terminate
        whatever of the run still runs, and record and announce the failure only if the run's record
        is not final yet (the machine's clean-up already announced it otherwise).
        """
        detail = ExecutionStatusChange.model_validate(event).detail
        status = RunStatus.ABORTED if detail.status == "ABORTED" else RunStatus.FAILED
        cause = f"execution {detail.status.lower().replace('_', ' ')}"
        if detail.error or detail.cause:
            cause = f"{cause}: {failure_cause({'Error': detail.error, 'Cause': detail.cause})}"
        result = self.failed(detail.name, cause, status)
        if result["recorded"]:
            self.events.put_events(
                Entries=[
                    {
                        "Source": EVENT_SOURCE,
                        "DetailType": RUN_FAILED,
                        "Detail": json.dumps({**result, "execution_arn": detail.executionArn}),
                    }
                ]
            )
        return raise_if_incomplete(result)


class CleanupIncomplete(ContractError):
    """Jobs of a failed run that Batch did not terminate (throttled, say): the step fails so that it is
    retried (the state machine's Retry; Lambda's async retries, then the function's dead-letter queue)."""


def raise_if_incomplete(result: dict[str, Any]) -> dict[str, Any]:
    """The clean-up's result, or CleanupIncomplete naming what still runs. The run is recorded and
    announced before this, so a retry only terminates what is left."""
    left = result.get("not_terminated") or []
    if left:
        shown = "; ".join(left[:10]) + (f"; and {len(left) - 10} more" if len(left) > 10 else "")
        raise CleanupIncomplete(f"run {result['run_id']}: {len(left)} job(s) not terminated: {shown}")
    return result


def failure_cause(error: dict[str, Any] | None) -> str:
    """A Step Functions Catch result ({"Error", "Cause"}) as one readable line."""
    if not error:
        return "unknown failure"
    cause = error.get("Cause") or ""
    try:
        parsed = json.loads(cause)
    except (TypeError, ValueError):
        parsed = None
    if isinstance(parsed, dict):
        # A failed batch .sync task's Cause is the job (PascalCase, as Step Functions returns it);
        # a Lambda error's has errorMessage.
        reason = parsed.get("errorMessage") or parsed.get("StatusReason") or parsed.get("statusReason")
        container = parsed.get("Container") or parsed.get("container") or {}
        exit_code = container.get("ExitCode", container.get("exitCode"))
        cause = reason or cause
        if exit_code is not None:
            cause = f"{cause} (exit code {exit_code})"
    return f"{error.get('Error') or 'Error'}: {cause}".strip()


class LifecycleAction(BaseModel):
    """What the state machine passes to the lifecycle function (see statemachine/coordinator.asl.json)."""

    model_config = ConfigDict(extra="ignore")

    action: Literal["register", "succeeded", "failed"]
    execution_arn: str | None = None
    input: dict[str, Any] = {}
    run_id: str | None = None
    coordinator_job_id: str | None = None
    error: dict[str, Any] | None = None

    def target_run_id(self) -> str:
        run_id = self.run_id or self.input.get("run_id") or (self.input.get("request") or {}).get("run_id")
        if not run_id and self.execution_arn:
            run_id = self.execution_arn.rsplit(":", 1)[-1]  # the execution name is the run id
        if not run_id:
            raise InvalidRunRequest("the lifecycle payload names no run")
        return run_id


def run_id_of(event: dict[str, Any]) -> str | None:
    """The run a lifecycle event is about (for log correlation), or None if it names none."""
    if event.get("detail-type") == EXECUTION_STATUS_CHANGE:
        try:
            return ExecutionName.model_validate(event.get("detail")).name
        except ValidationError:
            return None
    try:
        return LifecycleAction.model_validate(event).target_run_id()
    except (ValidationError, InvalidRunRequest):
        return None


def dispatch(lifecycle: Lifecycle, event: dict[str, Any]) -> dict[str, Any]:
    if event.get("detail-type") == EXECUTION_STATUS_CHANGE:
        return lifecycle.execution_stopped(event)
    action = LifecycleAction.model_validate(event)
    if action.action == "register":
        return lifecycle.register(action.input, action.execution_arn or "")
    if action.action == "succeeded":
        return lifecycle.succeeded(action.target_run_id(), action.coordinator_job_id)
    return raise_if_incomplete(lifecycle.failed(action.target_run_id(), failure_cause(action.error)))
