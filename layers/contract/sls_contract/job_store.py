"""Reads and conditional writes of job records. Every write is safe to repeat and to reorder."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from . import limits
from .batch_calls import BatchCalls
from .events import BatchJobStateChangeDetail
from .job_record import (
    DEFAULT_LOG_GROUP,
    EXPIRES_AT,
    LIVE_INDEX,
    LIVE_SHARD,
    LIVE_SHARDS,
    PARTITION_KEY,
    RESERVED_KEY_PREFIX,
    RUN_CONTROL_JOB_ID,
    SORT_KEY,
    UPDATED_AT,
    UPDATES_INDEX,
    JobRecord,
    check_fields,
    item_key,
    live_shard,
    now_iso,
    record_from_item,
    serialize,
    shard_key,
)
from .spec import JobSpec
from .status import TERMINAL, JobStatus, progress
from .writes import status_not_in, update_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_NOT_TERMINAL, _TERMINAL_VALUES = status_not_in(TERMINAL)


def _failed(reason: str) -> dict[str, Any]:
    """The fields of a FAILED record with its reason (every write that ends a job without Batch)."""
    return {
        "status": JobStatus.FAILED.value,
        "progress": progress(JobStatus.FAILED),
        "status_reason": reason[: limits.BATCH_REASON_MAX],
    }


class JobStore:
    """The jobs table, through a low-level DynamoDB client (a moto client in tests)."""

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        ttl_days: int = 30,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.table_name = table_name
        self.ttl_seconds = ttl_days * 86400
        self.batch = BatchCalls(client, table_name, sleep)

    def put_items(self, items: list[dict[str, Any]], concurrency: int = 1) -> None:
        """New items nothing else can have written yet (an array's children, before it is sent)."""
        self.batch.put(items, concurrency)

    # -- writes ---------------------------------------------------------------------------------

    def _update(
        self,
        run_id: str,
        job_id: str,
        assign: Mapping[str, Any],
        if_absent: Mapping[str, Any] = {},
        condition: str | None = None,
        condition_values: Mapping[str, Any] = {},
        condition_names: Mapping[str, str] = {},
        before: dict[str, Any] | None = None,
    ) -> bool:
        """One UpdateItem; False when the condition said this write is stale or a duplicate.
        `before`, if given, receives the item as it was before a successful write."""
        stamped = {UPDATED_AT: now_iso(), EXPIRES_AT: int(time.time()) + self.ttl_seconds, **assign}
        # The live-jobs index holds a job from SUBMITTED until it is final: derived from the status
        # written, so no write path can forget it.
        status = assign.get("status")
        remove: tuple[str, ...] = ()
        if status in TERMINAL:
            remove = (LIVE_SHARD,)
        elif status is not None and status != JobStatus.SUBMITTING:
            stamped[LIVE_SHARD] = live_shard(job_id)
        check_fields([*stamped, *if_absent, *remove])
        return update_item(
            self.client,
            self.table_name,
            item_key(run_id, job_id),
            stamped,
            if_absent,
            remove,
            condition,
            condition_names,
            condition_values,
            before,
        )

    def claim(
        self, spec: JobSpec, token: str, lease_seconds: int, before: dict[str, Any] | None = None
    ) -> bool:
        """Take the submit lease on a spec. False: another delivery holds it or already submitted it.

        A lease (not a permanent flag) so that a function that died before SubmitJob does not strand
        the spec; a function that died after SubmitJob left batch_job_id behind (written by the submit
        function or by the job's first state-change event), which blocks any second submission.
        """
        now = int(time.time())
        return self._update(
            spec.run_id,
            spec.job_id,
            assign={
                "rule": spec.rule,
                "workflow": spec.workflow,
                "snakemake_jobid": spec.snakemake_jobid,
                "group": spec.group,
                "job_name": spec.job_name,
                "job_queue": spec.job_queue,
                "job_definition": spec.job_definition,
                "array_size": spec.array_size,
                "claimed_at": now,
                "claim_token": token,
            },
            if_absent={
                "status": JobStatus.SUBMITTING.value,
                "progress": 0,
                "created_at": now_iso(),
            },
            condition=(
                f"attribute_not_exists(#batch_job_id) AND {_NOT_TERMINAL} AND "
                "(attribute_not_exists(#claimed_at) OR #claimed_at < :lease_cutoff)"
            ),
            condition_names={"#batch_job_id": "batch_job_id", "#status": "status"},
            condition_values={":lease_cutoff": now - lease_seconds, **_TERMINAL_VALUES},
            before=before,
        )

    def release_claim(self, run_id: str, job_id: str, token: str, uncertain: bool = False) -> None:
        """Give the lease back so a redelivery can submit at once (after throttling, say).

        uncertain: the failed SubmitJob may have reached Batch (a 5xx, a dropped connection): the next
        delivery looks for the job by name before submitting again."""
        update_item(
            self.client,
            self.table_name,
            item_key(run_id, job_id),
            assign={"submit_uncertain": True} if uncertain else {},
            remove=("claimed_at", "claim_token"),
            condition="#claim_token = :token AND attribute_not_exists(#batch_job_id)",
            condition_names={"#claim_token": "claim_token", "#batch_job_id": "batch_job_id"},
            condition_values={":token": token},
        )

    def mark_submitted(self, spec: JobSpec, batch_job_id: str, job_arn: str | None) -> None:
        """Record the Batch job id; the status moves to SUBMITTED unless events already moved it."""
        ids = {"batch_job_id": batch_job_id, "job_arn": job_arn, "submitted_at": now_iso()}
        moved = self._update(
            spec.run_id,
            spec.job_id,
            assign={**ids, "status": JobStatus.SUBMITTED.value, "progress": progress(JobStatus.SUBMITTED)},
            condition="attribute_not_exists(#progress) OR #progress < :submitted",
            condition_names={"#progress": "progress"},
            condition_values={":submitted": progress(JobStatus.SUBMITTED)},
        )
        if not moved:
            # A state-change event got here first: keep its status, add what only we know.
            self._update(spec.run_id, spec.job_id, assign=ids)

    def mark_failed(self, run_id: str, job_id: str, reason: str, details: Mapping[str, Any] = {}) -> bool:
        """Terminal FAILED before (or instead of) a Batch job; never overwrites a terminal record."""
        return self._update(
            run_id,
            job_id,
            assign={**details, **_failed(reason)},
            condition=_NOT_TERMINAL,
            condition_names={"#status": "status"},
            condition_values=_TERMINAL_VALUES,
        )

    def fail_if_absent(self, run_id: str, job_id: str, reason: str) -> bool:
        """FAILED for a spec that has no record at all (declared lost): a delivery that comes later
        finds a terminal record and submits nothing. False if any record exists by now."""
        return self._update(
            run_id,
            job_id,
            assign=_failed(reason),
            if_absent={"created_at": now_iso()},
            condition="attribute_not_exists(#status)",
            condition_names={"#status": "status"},
        )

    def fail_stuck_claim(self, run_id: str, job_id: str, reason: str, claimed_before: int) -> bool:
        """FAILED for a spec claimed before `claimed_before` (epoch s) and never submitted (a submit
        function that died on it until its message went to the dead-letter queue). False if it was
        submitted, finished, or claimed again meanwhile."""
        return self._update(
            run_id,
            job_id,
            assign=_failed(reason),
            condition="#status = :submitting AND attribute_not_exists(#batch_job_id) AND #claimed_at < :cutoff",
            condition_names={
                "#status": "status",
                "#batch_job_id": "batch_job_id",
                "#claimed_at": "claimed_at",
            },
            condition_values={":submitting": JobStatus.SUBMITTING.value, ":cutoff": claimed_before},
        )

    def apply_state_change(self, detail: BatchJobStateChangeDetail) -> bool:
        """Apply one Batch event; False when it is a duplicate, stale, or after a terminal state."""
        keys = detail.record_keys()
        if keys is None:
            raise ValueError(f"job {detail.jobId} carries no {SORT_KEY} in its environment")
        new_progress = progress(detail.status, len(detail.attempts))
        last_attempt = detail.attempts[-1] if detail.attempts else None
        return self._update(
            *keys,
            assign={
                "status": detail.status.value,
                "progress": new_progress,
                "batch_job_id": detail.jobId,
                "job_arn": detail.jobArn,
                "status_reason": detail.reason(),
                "exit_code": detail.exit_code(),
                "attempts": len(detail.attempts),
                "log_stream": detail.log_stream(),
                "log_group": DEFAULT_LOG_GROUP if detail.log_stream() else None,
                "started_at": detail.startedAt or (last_attempt.startedAt if last_attempt else None),
                "stopped_at": detail.stoppedAt,
            },
            if_absent={"job_name": detail.jobName, "job_queue": detail.jobQueue},
            condition=f"attribute_not_exists(#progress) OR (#progress < :progress AND {_NOT_TERMINAL})",
            condition_names={"#progress": "progress", "#status": "status"},
            condition_values={":progress": new_progress, **_TERMINAL_VALUES},
        )

    # -- the run's control item -------------------------------------------------------------------

    def request_cancel(self, run_id: str, reason: str) -> None:
        """Mark the run's control item (an update: the item may also hold the run record)."""
        update_item(
            self.client,
            self.table_name,
            item_key(run_id, RUN_CONTROL_JOB_ID),
            assign={"cancel_reason": reason, "cancel_requested_at": now_iso()},
            if_absent={EXPIRES_AT: int(time.time()) + self.ttl_seconds},
        )

    def cancelled_runs(self, run_ids: Iterable[str]) -> dict[str, str]:
        """{run_id: reason} for the runs whose cancel was requested (strongly consistent)."""
        items = self.batch.get([(run_id, RUN_CONTROL_JOB_ID) for run_id in set(run_ids)])
        return {
            item[PARTITION_KEY]["S"]: item.get("cancel_reason", {}).get("S", "run cancelled")
            for item in items
            if "cancel_reason" in item
        }

    # -- reads ------------------------------------------------------------------------------------

    def get_records(self, run_id: str, job_ids: Iterable[str]) -> dict[str, JobRecord]:
        records = (record_from_item(item) for item in self.batch.get([(run_id, j) for j in job_ids]))
        return {record.job_id: record for record in records}

    def changed_since(self, run_id: str, since: str) -> list[JobRecord]:
        """Job records of a run whose updated_at is after `since`: one Query (plus pages)."""
        records: list[JobRecord] = []
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": UPDATES_INDEX,
            "KeyConditionExpression": "#pk = :run_id AND #updated > :since",
            "ExpressionAttributeNames": {"#pk": PARTITION_KEY, "#updated": UPDATED_AT},
            "ExpressionAttributeValues": {":run_id": serialize(run_id), ":since": serialize(since)},
        }
        for page in self.client.get_paginator("query").paginate(**request):
            records.extend(record_from_item(item) for item in page["Items"])
        return records

    def run_jobs(self, run_id: str) -> list[JobRecord]:
        """Every job record of a run (the control item and commands excluded), strongly consistent."""
        records: list[JobRecord] = []
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "#pk = :run_id",
            "ExpressionAttributeNames": {"#pk": PARTITION_KEY},
            "ExpressionAttributeValues": {":run_id": serialize(run_id)},
            "ConsistentRead": True,
        }
        for page in self.client.get_paginator("query").paginate(**request):
            # The run's control item and array children's commands are not job records.
            records.extend(
                record_from_item(item)
                for item in page["Items"]
                if not item[SORT_KEY]["S"].startswith(RESERVED_KEY_PREFIX)
            )
        return records

    def stale_live_records(self, older_than_iso: str) -> list[JobRecord]:
        """Records in the sparse live-jobs index (submitted, not final) not updated since `older_than_iso`:
        a Query of each shard, all pages, whatever the size of the table."""
        paginator = self.client.get_paginator("query")
        records: list[JobRecord] = []
        for shard in range(LIVE_SHARDS):
            pages = paginator.paginate(
                TableName=self.table_name,
                IndexName=LIVE_INDEX,
                KeyConditionExpression="#shard = :shard AND #updated < :cutoff",
                ExpressionAttributeNames={"#shard": LIVE_SHARD, "#updated": UPDATED_AT},
                ExpressionAttributeValues={
                    ":shard": serialize(shard_key(shard)),
                    ":cutoff": serialize(older_than_iso),
                },
            )
            for page in pages:
                records.extend(record_from_item(item) for item in page["Items"])
        return records
