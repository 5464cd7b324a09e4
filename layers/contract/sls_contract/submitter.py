"""One spec -> at most one Batch job, whatever SQS does with the message."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from . import limits
from .batch_errors import classify
from .cancel import describe_failures, terminate_jobs
from .errors import InvalidJobSpec, PermanentSubmitError, RetryableSubmitError
from .fargate import check_fargate_pair
from .job_definitions import JobDefinitions
from .job_store import JobStore
from .queue_capacity import QueueCapacity
from .spec import JobSpec, spec_keys
from .submit_request import build_submit_job_request

if TYPE_CHECKING:
    from mypy_boto3_batch import BatchClient
    from mypy_boto3_batch.type_defs import JobSummaryTypeDef

# Longer than a submit invocation can live (function timeout 30 s), so a lease is only ever taken
# over from a function that is certainly gone; shorter than the jobs queue's visibility timeout
# (180 s), so the redelivery of a message whose invocation died finds the lease expired. (A longer
# lease made that redelivery a DUPLICATE, which deleted the spec's only message.)
CLAIM_LEASE_SECONDS = 120
# How long a fresh "this run is not cancelled" read may stand in for the check before SubmitJob.
# That check only saves a Batch job; the read after SubmitJob (always fresh, see recheck_cancels)
# is what guarantees a cancel is never missed: either it sees the mark, or every job id it covers
# was written before the mark and cancel_run's scan finds and terminates it. So a delivery of
# specs of one run costs about two reads in all, not two per spec.
CANCEL_CHECK_REUSE_SECONDS = 2.0


class Outcome(StrEnum):
    SUBMITTED = "SUBMITTED"
    DUPLICATE = "DUPLICATE"  # another delivery of the same spec owns or made the job
    FAILED = "FAILED"  # recorded as FAILED with the reason; never retried
    CANCELLED = "CANCELLED"  # the run was cancelled; recorded as FAILED, never submitted


@dataclass
class RecheckResult:
    terminated: list[str] = field(default_factory=list)  # jobs of runs cancelled meanwhile, terminated
    errors: list[str] = field(default_factory=list)  # "job id: why" for those Batch did not terminate


@dataclass(frozen=True)
class SubmitResult:
    outcome: Outcome
    batch_job_id: str | None = None
    reason: str | None = None


class Submitter:
    def __init__(
        self,
        batch: BatchClient,
        store: JobStore,
        definitions: JobDefinitions,
        clock: Callable[[], float] = time.monotonic,
        capacity: QueueCapacity | None = None,
        stack_name: str = "",
    ) -> None:
        self.batch = batch
        self.stack_name = stack_name  # tags every job (STACK_TAG): IAM lets the stack stop only those
        self.store = store
        self.definitions = definitions
        self.capacity = capacity or QueueCapacity(batch)
        self._clock = clock
        self._not_cancelled_at: dict[str, float] = {}  # run id -> when a fresh read said "not cancelled"
        self._unchecked: list[tuple[str, str]] = []  # (run id, Batch job id) made since the last recheck

    def _cancelled(self, run_id: str, fresh: bool) -> str | None:
        """The run's cancel reason, or None. Not fresh: a recent "not cancelled" read may answer."""
        seen = self._not_cancelled_at.get(run_id)
        if not fresh and seen is not None and self._clock() - seen < CANCEL_CHECK_REUSE_SECONDS:
            return None
        read_at = self._clock()
        reason = self.store.cancelled_runs([run_id]).get(run_id)
        if reason is None:
            self._not_cancelled_at[run_id] = read_at
        else:
            self._not_cancelled_at.pop(run_id, None)
        return reason

    def submit(self, spec: JobSpec, last_delivery: bool = False) -> SubmitResult:
        """Submit once. RetryableSubmitError means "put it back on the queue" (unless last_delivery,
        in which case the failure is recorded instead, so nothing waits on a message in the DLQ)."""
        token = uuid.uuid4().hex
        before: dict[str, Any] = {}
        if not self.store.claim(spec, token, CLAIM_LEASE_SECONDS, before=before):
            return SubmitResult(Outcome.DUPLICATE)
        cancelled = self._cancelled(spec.run_id, fresh=False)
        if cancelled is not None:
            self.store.mark_failed(spec.run_id, spec.job_id, f"cancelled before submission: {cancelled}")
            return SubmitResult(Outcome.CANCELLED, reason=cancelled)
        try:
            job_definition = self.definitions.resolve(spec)
            if self.definitions.is_fargate(spec.job_definition):
                check_fargate_pair(spec.vcpu, spec.memory_mib)
            never_starts = self.capacity.problem(spec.job_queue, spec.vcpu, spec.gpu)
            if never_starts:
                raise InvalidJobSpec(never_starts)
            if before.get("claimed_at") or before.get("submit_uncertain"):
                # An earlier delivery claimed the spec and died, or its SubmitJob failed in a way that
                # may have reached Batch: the job may exist already. Its name is unique to the spec.
                existing = self._existing_jobs(spec)
                if existing:
                    self.store.mark_submitted(spec, existing[0]["jobId"], existing[0].get("jobArn"))
                    return SubmitResult(Outcome.SUBMITTED, batch_job_id=existing[0]["jobId"])
            request = build_submit_job_request(spec, job_definition, self.store.table_name, self.stack_name)
            check_payload_size(spec, request)
            try:
                response = self.batch.submit_job(**request)
            except (ClientError, BotoCoreError) as exc:
                raise classify(exc, f"SubmitJob {spec.job_name}") from exc
            if response.get("ResponseMetadata", {}).get("RetryAttempts"):
                # botocore retried SubmitJob: an attempt that failed with a server error may have made
                # a job too. Keep the one Batch answered with; terminate any other of this name.
                self._terminate_duplicates(spec, keep=response["jobId"])
        except (InvalidJobSpec, PermanentSubmitError) as exc:
            self.store.mark_failed(spec.run_id, spec.job_id, str(exc))
            return SubmitResult(Outcome.FAILED, reason=str(exc))
        except RetryableSubmitError as exc:
            if last_delivery:
                reason = f"gave up after the queue's last delivery: {exc}"
                self.store.mark_failed(spec.run_id, spec.job_id, reason)
                return SubmitResult(Outcome.FAILED, reason=reason)
            self.store.release_claim(spec.run_id, spec.job_id, token, uncertain=not exc.throttled)
            raise
        batch_job_id = response["jobId"]
        self.store.mark_submitted(spec, batch_job_id, response.get("jobArn"))
        self._unchecked.append((spec.run_id, batch_job_id))
        return SubmitResult(Outcome.SUBMITTED, batch_job_id=batch_job_id)

    def _existing_jobs(self, spec: JobSpec) -> list[JobSummaryTypeDef]:
        """Batch jobs of this spec's (unique) job name on its queue, in any status (ListJobs with a
        filter ignores jobStatus)."""
        try:
            response = self.batch.list_jobs(
                jobQueue=spec.job_queue, filters=[{"name": "JOB_NAME", "values": [spec.job_name]}]
            )
        except (ClientError, BotoCoreError) as exc:
            raise classify(exc, f"ListJobs {spec.job_name}") from exc
        return [job for job in response.get("jobSummaryList", []) if job.get("jobName") == spec.job_name]

    def _terminate_duplicates(self, spec: JobSpec, keep: str) -> list[str]:
        extra = [job["jobId"] for job in self._existing_jobs(spec) if job["jobId"] != keep]
        if extra:
            terminate_jobs(
                self.batch, extra, f"duplicate of {keep}: SubmitJob was retried after a server error"
            )
        return extra

    def recheck_cancels(self) -> RecheckResult:
        """Close the race with a cancel that arrived while SubmitJob was on its way: one fresh read of
        the cancel marks of every run submitted to since the last recheck, and TerminateJobs for the
        jobs of cancelled runs. Call after the last SubmitJob of a delivery, before returning it.

        If the read fails the jobs stay due for the next recheck and the error propagates.
        """
        if not self._unchecked:
            return RecheckResult()
        runs = {run_id for run_id, _ in self._unchecked}
        read_at = self._clock()
        cancelled = self.store.cancelled_runs(runs)
        unchecked, self._unchecked = self._unchecked, []
        for run_id in runs - cancelled.keys():
            self._not_cancelled_at[run_id] = read_at
        result = RecheckResult()
        for run_id, reason in cancelled.items():
            self._not_cancelled_at.pop(run_id, None)
            job_ids = [job_id for run, job_id in unchecked if run == run_id]
            failed = terminate_jobs(self.batch, job_ids, reason)
            result.terminated.extend(job_id for job_id in job_ids if job_id not in failed)
            result.errors.extend(describe_failures(failed))
        return result


def check_payload_size(spec: JobSpec, request: dict[str, Any]) -> None:
    """Batch refuses a SubmitJob payload over 30 KiB; say so with the rule's name before sending it."""
    size = len(json.dumps(request, separators=(",", ":")).encode())
    if size > limits.BATCH_SUBMIT_JOB_PAYLOAD_MAX:
        raise InvalidJobSpec(
            f"rule {spec.rule}: the SubmitJob request is {size / 1024:.1f} KiB and AWS Batch accepts at most "
            f"{limits.BATCH_SUBMIT_JOB_PAYLOAD_MAX // 1024} KiB; pass large values through files or storage, "
            "not through the job's command, environment or tags"
        )


# Specs too broken to name their own run land here, keyed by the SQS message id, so they are still
# visible (and not retried) rather than dropped.
UNPARSEABLE_RUN_ID = "_unparseable"


def record_unusable_message(store: JobStore, body: str, message_id: str, reason: str) -> tuple[str, str]:
    """FAILED record for a message that is not a valid spec; returns the (run_id, job_id) used."""
    keys = spec_keys(body) or (UNPARSEABLE_RUN_ID, message_id)
    store.mark_failed(*keys, reason)
    return keys
