"""AWS Batch array jobs: SubmitJob with ``arrayProperties.size`` N makes one parent and N children.

How it maps to AWS Batch (userguide/array_jobs.html, API_ArrayPropertiesDetail, API_JobDetail)
---------------------------------------------------------------------------------------------
- The parent has SubmitJob's job id P and is a moto Job like a plain one (ListJobs by queue and its
  JOB_NAME filter find it). It never runs a container, has no attempts and no timeout of its own. It is
  SUBMITTED at creation (no event), PENDING as soon as a child is RUNNABLE (or waits on the array's
  dependsOn), then SUCCEEDED when every child succeeded, or FAILED once every child is final and one
  failed. Each of those changes is a state-change event whose detail carries ``arrayProperties``
  ``{statusSummary: {7 statuses: count}, statusSummaryLastUpdatedAt, size}``.
- Child i is ``P:i`` (ARN ``<parent ARN>:i``) with the parent's name, queue, definition, overrides,
  parameters, dependsOn, timeout (per child attempt), retryStrategy (per child), priority and tags. It is
  a plain job in the engine (own capacity slot, dispatch order, attempts, log streams, events), created in
  PENDING (no event, createdAt = that moment), with ``arrayProperties {index: i}`` in DescribeJobs and in
  its events; its process gets AWS_BATCH_JOB_ARRAY_INDEX and AWS_BATCH_JOB_ARRAY_SIZE, which DescribeJobs'
  container.environment does not list (the documentation lists only the submitted environment).
- TerminateJob(s) of P terminates every child not yet final (queued ones FAILED, running ones killed);
  CancelJob(s) of P cancels the children that have not started and leaves running ones alone; either way
  P ends FAILED with that reason once every child is final. TerminateJob of ``P:i`` ends only that child.
- Not emulated: SEQUENTIAL and N_TO_N dependencies (SubmitJob rejects them).

Cost: children are small records, not moto Jobs (a moto Job is a Thread object); they leave PENDING a
chunk at a time on the scheduler thread; the status summary is a counter updated per child change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .describe import describe, describe_short
from .lifecycle import BEFORE_STARTING, TERMINAL, RuntimeJob, now_ms

if TYPE_CHECKING:
    import threading

    from .engine import Engine

ARRAY_SIZE_MIN, ARRAY_SIZE_MAX = 2, 10_000
STATUSES = ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED")
_RELEASE_CHUNK = 250  # children made RUNNABLE per scheduler callback (the engine lock is released between)


@dataclass
class ArrayState:
    """A parent's view of its children: the count per status is kept, never recomputed."""

    size: int
    children: list[RuntimeJob]
    counts: dict[str, int]
    updated_ms: int
    stop_reason: str | None = None  # TerminateJob/CancelJob of the parent: it ends FAILED with this


class ChildJob:
    """The part of a moto Job that the runtime, DescribeJobs and moto's ListJobs read, for a child."""

    def __init__(self, parent: Any, index: int, lock: threading.RLock) -> None:
        self.parent = parent
        self.job_id = f"{parent.job_id}:{index}"
        self.arn = f"{parent.arn}:{index}"
        self.tags_arn = parent.arn  # a child reports its parent's tags
        self._status = "PENDING"
        self._lock = lock
        self._lc_record: RuntimeJob | None = None

    job_name = property(lambda self: self.parent.job_name)
    job_queue = property(lambda self: self.parent.job_queue)
    job_definition = property(lambda self: self.parent.job_definition)
    depends_on = property(lambda self: self.parent.depends_on)
    parameters = property(lambda self: self.parent.parameters)
    backend = property(lambda self: self.parent.backend)
    status = property(lambda self: self._status)  # moto's ListJobs jobStatus filter

    def _record(self) -> RuntimeJob:
        assert self._lc_record is not None, "a child's record is set when it is created"
        return self._lc_record

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return describe(self._record())

    def describe_short(self) -> dict[str, Any]:
        with self._lock:
            return describe_short(self._record())


def validate_array(
    array_properties: dict[str, Any] | None, depends_on: list[dict[str, Any]] | None
) -> str | None:
    """An AWS-like problem with an array job's arrayProperties or a dependency type, or None."""
    for dep in depends_on or []:
        if str(dep.get("type") or "").upper() in ("N_TO_N", "SEQUENTIAL"):
            return f"dependsOn type {dep['type']} is not emulated by the local Batch runtime"
    size = (array_properties or {}).get("size")
    if size is None:
        return None
    if isinstance(size, bool) or not isinstance(size, int) or not ARRAY_SIZE_MIN <= size <= ARRAY_SIZE_MAX:
        return f"Array job size must be between {ARRAY_SIZE_MIN} and {ARRAY_SIZE_MAX:,}; got {size}"
    return None


def submit_array(engine: Engine, parent: RuntimeJob, size: int) -> None:
    """Create the N children of ``parent`` (in PENDING, visible to DescribeJobs at once) and schedule them."""
    created = now_ms()
    children = []
    for index in range(size):
        job = ChildJob(parent.job, index, engine.lock)
        child = RuntimeJob(
            job=job,
            account=parent.account,
            region=parent.region,
            seq=engine.next_seq(),
            priority=parent.priority,
            vcpus=parent.vcpus,
            container=parent.container,  # shared: nothing mutates it, describe() copies it
            retry_strategy=parent.retry_strategy,
            timeout=parent.timeout,
            propagate_tags=parent.propagate_tags,
            share_identifier=parent.share_identifier,
            status="PENDING",
            created_ms=created,
            parent=parent,
            array_index=index,
        )
        job._lc_record = child
        children.append(child)
    counts = dict.fromkeys(STATUSES, 0)
    counts["PENDING"] = size
    parent.array = ArrayState(size=size, children=children, counts=counts, updated_ms=created)
    parent.job._child_jobs = [child.job for child in children]  # what moto's ListJobs(arrayJobId) lists
    with engine.lock:
        engine.records[parent.job_id] = parent
        engine.records.update((child.job_id, child) for child in children)
    engine.scheduler.call_soon(lambda: _release(engine, parent, 0))


def _release(engine: Engine, parent: RuntimeJob, start: int) -> None:
    """Children leave PENDING (dependsOn permitting) a chunk at a time."""
    state = parent.array
    for child in state.children[start : start + _RELEASE_CHUNK]:
        engine._after_submit(child)
    with engine.lock:
        first = state.children[0]
        if start == 0 and parent.status == "SUBMITTED" and first.status == "PENDING":
            engine._set_status(parent, "PENDING")  # the array waits on its dependencies
    if start + _RELEASE_CHUNK < state.size:
        engine.scheduler.call_soon(lambda: _release(engine, parent, start + _RELEASE_CHUNK))


def child_changed(engine: Engine, child: RuntimeJob, previous: str) -> None:
    """A child moved from ``previous`` to its status (engine lock held): count it, move the parent."""
    parent = child.parent
    assert parent is not None
    state = parent.array
    state.counts[previous] -= 1
    state.counts[child.status] += 1
    state.updated_ms = now_ms()
    if parent.status in TERMINAL:
        return
    if child.status == "RUNNABLE" and parent.status == "SUBMITTED":
        engine._set_status(parent, "PENDING")
    elif child.status in TERMINAL and state.counts["SUCCEEDED"] + state.counts["FAILED"] == state.size:
        failed = state.counts["FAILED"] > 0 or state.stop_reason is not None
        engine._finalize(parent, "FAILED" if failed else "SUCCEEDED", state.stop_reason)


def stop_array(engine: Engine, parent: RuntimeJob, reason: str, terminate: bool) -> None:
    """TerminateJob (``terminate``) or CancelJob of a parent, engine lock held."""
    state = parent.array
    if parent.status in TERMINAL:
        return
    state.stop_reason = state.stop_reason or reason
    for child in state.children:
        if child.status in TERMINAL:
            continue
        if terminate:
            engine.terminate_record(child, reason)
        elif child.status in BEFORE_STARTING:
            engine._cancel_queued(child, reason)
