"""AWS Batch array jobs: one SubmitJob for many Snakemake jobs, each still a record of its own.

The plugin turns ready jobs that differ only in their command into one array spec (array_size N). Before
it sends the spec it writes, for each child i, the child's record (key child_job_id(array, i), status
SUBMITTING, array_job_id and array_index set) and the child's command (key command_key(child)). The submit
function submits the array like any spec. Batch runs child i as job `PARENT:i` with
AWS_BATCH_JOB_ARRAY_INDEX=i; the array's command (bootstrap_command) reads the child's own command
and runs it (array_child.py). Batch's events for child i carry arrayProperties.index, which is how
they find the child's record (events.BatchJobStateChangeDetail.record_keys).

Until its first event a child's record has no batch_job_id; it is the array record's plus ":i"
(with_batch_ids). An array that was never submitted (refused, cancelled first) fails its children
(resolve_children), so no Snakemake job waits on a Batch job that will never exist; an array that
SUCCEEDED (Batch's word that every child did) makes a child whose own final event is late or lost
SUCCEEDED.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .job_record import (
    EXPIRES_AT,
    JOB_ID_ENV,
    PARTITION_KEY,
    RESERVED_KEY_PREFIX,
    RUN_ID_ENV,
    SORT_KEY,
    TABLE_ENV,
    JobRecord,
    now_iso,
)
from .spec import JobSpec
from .status import TERMINAL, JobStatus

# The child's command lives in an item of its own beside the records (not in the record, so the
# status reads, which return whole records, do not carry every command back each round).
COMMAND_KEY_PREFIX = f"{RESERVED_KEY_PREFIX}command#"
COMMAND_ATTRIBUTE = "command"
_CHILD_SCRIPT = Path(__file__).with_name("array_child.py")


def command_key(child_id: str) -> str:
    return f"{COMMAND_KEY_PREFIX}{child_id}"


def child_batch_job_id(parent_batch_job_id: str, index: int) -> str:
    """AWS Batch's id of an array child: the parent's id, ':', the index."""
    return f"{parent_batch_job_id}:{index}"


def bootstrap_command(python: str, region: str | None = None) -> list[str]:
    """The command every child of an array runs: array_child.py through the image's Python."""
    names = {
        "run_env": RUN_ID_ENV,
        "job_env": JOB_ID_ENV,
        "table_env": TABLE_ENV,
        "partition_key": PARTITION_KEY,
        "sort_key": SORT_KEY,
        "command_prefix": COMMAND_KEY_PREFIX,
        "command_attribute": COMMAND_ATTRIBUTE,
        "region": region,
    }
    return [python, "-c", _CHILD_SCRIPT.read_text(), json.dumps(names, separators=(",", ":"))]


def child_items(children: Sequence[JobSpec], array_job_id: str, ttl_seconds: int) -> list[dict[str, Any]]:
    """The items the plugin writes before sending an array spec: for each child (in index order) its
    record and its command. Plain values; JobStore.put_items serializes them."""
    now = now_iso()
    expires = int(time.time()) + ttl_seconds
    items: list[dict[str, Any]] = []
    for index, spec in enumerate(children):
        record = JobRecord(
            run_id=spec.run_id,
            job_id=spec.job_id,
            status=JobStatus.SUBMITTING,
            progress=0,
            updated_at=now,
            expires_at=expires,
            created_at=now,
            rule=spec.rule,
            workflow=spec.workflow,
            snakemake_jobid=spec.snakemake_jobid,
            group=spec.group,
            job_name=spec.job_name,
            job_queue=spec.job_queue,
            job_definition=spec.job_definition,
            array_job_id=array_job_id,
            array_index=index,
        )
        items.append(record.model_dump(mode="json", exclude_none=True))
        items.append(
            {
                PARTITION_KEY: spec.run_id,
                SORT_KEY: command_key(spec.job_id),
                COMMAND_ATTRIBUTE: list(spec.command),
                EXPIRES_AT: expires,
            }
        )
    return items


def _derived(child: JobRecord, array: JobRecord | None) -> JobRecord:
    """The child as its array's record shows it: its Batch id before its own first event, FAILED with an
    array that never reached Batch, SUCCEEDED with an array that did (its own final event late or lost)."""
    if array is None or child.status in TERMINAL or child.array_index is None:
        return child
    if array.status == JobStatus.SUCCEEDED and array.batch_job_id:
        # Batch marks an array SUCCEEDED only once every child has: a child whose own final event is
        # late or lost has succeeded too (no reconcile call needed for it).
        return child.model_copy(
            update={
                "status": JobStatus.SUCCEEDED,
                "batch_job_id": child.batch_job_id
                or child_batch_job_id(array.batch_job_id, child.array_index),
                "status_reason": f"its array job {array.batch_job_id} SUCCEEDED, so every child did",
            }
        )
    if child.batch_job_id:
        return child
    if array.batch_job_id:
        return child.model_copy(
            update={"batch_job_id": child_batch_job_id(array.batch_job_id, child.array_index)}
        )
    if array.status == JobStatus.FAILED:  # the array never reached Batch: neither will the child
        reason = f"its array job {array.job_id} was not submitted: {array.status_reason or 'no reason given'}"
        return child.model_copy(update={"status": JobStatus.FAILED, "status_reason": reason})
    return child


def resolve_children(
    records: dict[str, JobRecord],
    arrays: dict[str, JobRecord] | None = None,
    only: Iterable[str] | None = None,
) -> None:
    """In place: each child record in `records` (job id -> record) as its array shows it; with `only`,
    just those job ids. `arrays` are array records to use besides those in `records`."""
    # An array's record is found by its key, whatever it holds: one failed before it was ever claimed
    # (declared lost) has no array_size.
    known = {**(arrays or {}), **records}
    for job_id in list(records) if only is None else [j for j in only if j in records]:
        record = records[job_id]
        if record.array_job_id is not None:
            records[job_id] = _derived(record, known.get(record.array_job_id))


def with_batch_ids(store: Any, records: Iterable[JobRecord]) -> list[JobRecord]:
    """Records with every child's Batch id filled in from its array record (read when not given)."""
    records = list(records)
    wanted = {
        (r.run_id, r.array_job_id) for r in records if r.array_job_id is not None and not r.batch_job_id
    }
    arrays: dict[str, JobRecord] = {}
    for run_id in {run_id for run_id, _ in wanted}:
        arrays.update(store.get_records(run_id, [job_id for run, job_id in wanted if run == run_id]))
    by_id = {(r.run_id, r.job_id): r for r in records}
    resolved: list[JobRecord] = []
    for record in records:
        array = by_id.get((record.run_id, record.array_job_id or "")) or arrays.get(record.array_job_id or "")
        resolved.append(_derived(record, array) if record.array_job_id is not None else record)
    return resolved


def is_command_item(sort_key: str) -> bool:
    return sort_key.startswith(COMMAND_KEY_PREFIX)


def snakemake_jobs(records: Iterable[JobRecord]) -> list[JobRecord]:
    """A run's records as its Snakemake jobs: children as their arrays show them, arrays left out
    (an array is how jobs reached Batch, not a job of the workflow)."""
    by_id = {record.job_id: record for record in records}
    resolve_children(by_id)
    arrays = {r.array_job_id for r in by_id.values() if r.array_job_id}
    return [r for r in by_id.values() if not r.is_array() and r.job_id not in arrays]
