"""The job state machine: SUBMITTED -> PENDING -> RUNNABLE -> STARTING -> RUNNING -> SUCCEEDED/FAILED."""

from __future__ import annotations

import itertools
import shutil
import signal
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from .arrays import child_changed, stop_array
from .capacity import Capacity
from .config import BatchRuntimeConfig
from .describe import describe
from .events import EventPublisher
from .lifecycle import (
    BEFORE_STARTING,
    DEPENDENCY_FAILED,
    ESSENTIAL_EXITED,
    TERMINAL,
    TIMEOUT_REASON,
    Attempt,
    RuntimeJob,
    now_ms,
    should_retry,
)
from .logs import LogTail, ensure_stream
from .process import exit_code_of, kill_group, signal_group, start_process
from .scheduler import Scheduler
from .secrets import SecretResolutionError, resolve_secrets
from .simulated import SimulatedRuns


class Engine:
    """Owns every job the runtime runs; all state changes happen under ``self.lock``."""

    def __init__(self, config: BatchRuntimeConfig) -> None:
        self.config = config
        self.lock = threading.RLock()
        self.scheduler = Scheduler()
        # Events go out on a thread of their own: on the job scheduler they would wait behind every
        # timer due before them (10,000 array children ending together: minutes of success callbacks).
        self.event_scheduler = Scheduler(name="localcloud-batch-events")
        self.publisher = EventPublisher(config, self.event_scheduler)
        self.capacity = Capacity(config.default_vcpus, elastic=config.simulate)
        self.simulated = SimulatedRuns(self)
        self.work_root = Path(config.work_root or tempfile.mkdtemp(prefix="localcloud-batch-"))
        self.records: dict[str, RuntimeJob] = {}
        self._seq = itertools.count()
        self._dependents: dict[str, set[str]] = {}
        self._running: dict[str, tuple[RuntimeJob, Attempt, LogTail]] = {}
        self._poll_handle: int | None = None
        self._last_pump = 0.0
        self._dispatch_pending = False
        self._stopped = False

    # -- entry points (server threads) ------------------------------------------------------------
    def next_seq(self) -> int:
        return next(self._seq)

    def submit(self, record: RuntimeJob) -> None:
        with self.lock:
            self.records[record.job_id] = record
        self.scheduler.call_soon(lambda: self._after_submit(record))

    def terminate(self, job_id: str, reason: str) -> bool:
        """TerminateJob: cancel a queued job, kill a running one. False when the job is not ours."""
        with self.lock:
            record = self.records.get(job_id)
            if record is None:
                return False
            if record.array is not None:
                stop_array(self, record, reason, terminate=True)
            else:
                self.terminate_record(record, reason)
            return True

    def terminate_record(self, record: RuntimeJob, reason: str) -> None:
        if record.status in BEFORE_STARTING:
            self._cancel_queued(record, reason)
        elif record.status not in TERMINAL and record.current is not None:
            record.current.kill_reason = record.current.kill_reason or reason
            self._kill_attempt(record, record.current)

    def cancel(self, job_id: str, reason: str) -> bool:
        """CancelJob: only jobs that have not started; STARTING/RUNNING jobs are left alone, as AWS."""
        with self.lock:
            record = self.records.get(job_id)
            if record is None:
                return False
            if record.array is not None:
                stop_array(self, record, reason, terminate=False)
            elif record.status in BEFORE_STARTING:
                self._cancel_queued(record, reason)
            return True

    def forget(self, account: str, region: str) -> None:
        """A moto reset: kill and drop that backend's jobs."""
        with self.lock:
            for job_id, record in list(self.records.items()):
                if (record.account, record.region) == (account, region):
                    if record.current is not None and record.current.proc is not None:
                        kill_group(record.current.proc)
                    self._running.pop(job_id, None)
                    self.capacity.discard_runnable(job_id)
                    self.capacity.release(record)
                    del self.records[job_id]

    def stop(self) -> None:
        with self.lock:
            self._stopped = True
            running = list(self._running.values())
            self._running.clear()
        for _, attempt, tail in running:
            if attempt.proc is not None:
                kill_group(attempt.proc)
            tail.pump(final=True)
        self.scheduler.stop()
        self.simulated.stop()
        self.event_scheduler.stop()

    # -- transitions --------------------------------------------------------------------------------
    def _set_status(self, record: RuntimeJob, status: str) -> None:
        previous, record.status = record.status, status
        record.job._status = status  # ListJobs' jobStatus filter reads moto's own field
        self.publisher.publish(record.account, record.region, describe(record, with_tags=False))
        if record.parent is not None:
            child_changed(self, record, previous)

    def _after_submit(self, record: RuntimeJob) -> None:
        with self.lock:
            if record.status not in ("SUBMITTED", "PENDING") or self._stopped:
                return  # cancelled before it got here (array children start in PENDING)
            waiting = []
            for dep in record.job.depends_on or []:
                dep_status = self._status_of(dep["jobId"])
                if dep_status == "FAILED":
                    self._finalize(record, "FAILED", DEPENDENCY_FAILED)
                    return
                if dep_status != "SUCCEEDED":
                    waiting.append(dep["jobId"])
            if waiting:
                for dep_id in waiting:
                    self._dependents.setdefault(dep_id, set()).add(record.job_id)
                if record.status != "PENDING":
                    self._set_status(record, "PENDING")
            else:
                self._make_runnable(record)

    def _status_of(self, job_id: str) -> str:
        if job_id in self.records:
            return self.records[job_id].status
        return "SUCCEEDED"  # a job we do not run (or that moto forgot) never blocks its dependents

    def _make_runnable(self, record: RuntimeJob) -> None:
        record.status_reason = None
        self._set_status(record, "RUNNABLE")
        self.capacity.add_runnable(record)
        self._dispatch_soon()

    def _dispatch_soon(self) -> None:
        if not self._dispatch_pending:
            self._dispatch_pending = True
            self.scheduler.call_soon(self._dispatch)

    def _dispatch(self) -> None:
        with self.lock:
            self._dispatch_pending = False
            if self._stopped:
                return
            for record, ce_arn in self.capacity.dispatch():
                record.ce_arn = ce_arn
                self._start_attempt(record)

    def _start_attempt(self, record: RuntimeJob) -> None:
        self._set_status(record, "STARTING")
        number = len(record.attempts) + 1
        stream = f"{record.job.job_definition.name}/default/{uuid.uuid4().hex}"
        attempt = Attempt(number=number, started_ms=now_ms(), log_stream=stream)
        attempt.behaviour = self.config.behaviour_for(record.name, number, record.array_index)
        record.current, record.log_stream = attempt, stream
        record.exit_code = record.container_reason = None
        ensure_stream(record.account, record.region, stream)
        behaviour = attempt.behaviour
        synthetic = self.config.simulates(record.name) or (
            behaviour is not None and (behaviour.fail is not None or behaviour.hang)
        )
        if synthetic:
            self.simulated.start(record, attempt)
        else:
            self._run_process(record, attempt)
        if record.attempt_duration and not attempt.finished:
            attempt.timers.append(
                self.scheduler.call_later(
                    record.attempt_duration * self.config.time_scale,
                    lambda: self._on_timeout(record, attempt),
                )
            )

    def mark_running(self, record: RuntimeJob, attempt: Attempt) -> None:
        attempt.started_ms = record.started_ms = now_ms()
        self._set_status(record, "RUNNING")

    def _run_process(self, record: RuntimeJob, attempt: Attempt) -> None:
        job_dir = self.work_root / record.job_id
        attempt.scratch = job_dir / f"attempt-{attempt.number}"
        image_dir = self.config.image_dir(record.container.get("image", ""))
        if image_dir is not None:
            # The "image" filesystem: e.g. the workflow a coordinator or rule job expects to find.
            shutil.copytree(
                image_dir, attempt.scratch, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".snakemake")
            )
        attempt.scratch.mkdir(parents=True, exist_ok=True)
        attempt.log_path = job_dir / f"attempt-{attempt.number}.log"
        tail = LogTail(record.account, record.region, attempt.log_stream, attempt.log_path)
        try:
            env = self._environment(record, attempt)
            attempt.proc = start_process(record.container["command"], attempt.scratch, env, attempt.log_path)
        except SecretResolutionError as exc:
            reason = f"ResourceInitializationError: unable to pull secrets or registry auth: {exc}"
            self.finish_attempt(record, attempt, None, container_reason=reason, status_reason=reason)
            return
        except (OSError, ValueError) as exc:
            reason = f"CannotStartContainerError: {exc}"
            self.finish_attempt(
                record, attempt, None, container_reason=reason, status_reason="Task failed to start"
            )
            return
        if attempt.behaviour is not None and attempt.behaviour.run_seconds is not None:
            attempt.min_end = time.monotonic() + attempt.behaviour.run_seconds
        self._running[record.job_id] = (record, attempt, tail)
        self.mark_running(record, attempt)
        if self._poll_handle is None:
            self._poll_handle = self.scheduler.call_later(self.config.poll_seconds, self._poll)

    def _environment(self, record: RuntimeJob, attempt: Attempt) -> dict[str, str]:
        env = dict(self.config.base_env)
        env.update({e["name"]: e["value"] for e in record.container.get("environment", [])})
        env.update(resolve_secrets(record.account, record.region, record.container.get("secrets", [])))
        env.update(
            {
                "AWS_BATCH_JOB_ID": record.job_id,
                "AWS_BATCH_JQ_NAME": record.job.job_queue.name,
                "AWS_BATCH_JOB_ATTEMPT": str(attempt.number),
                "AWS_BATCH_CE_NAME": (record.ce_arn or "").rsplit("/", 1)[-1],
            }
        )
        if record.parent is not None:
            env["AWS_BATCH_JOB_ARRAY_INDEX"] = str(record.array_index)
            env["AWS_BATCH_JOB_ARRAY_SIZE"] = str(record.parent.array.size)
        return env

    def _poll(self) -> None:
        with self.lock:
            self._poll_handle = None
            if self._stopped:
                return
            pump = time.monotonic() - self._last_pump >= self.config.log_flush_seconds
            if pump:
                self._last_pump = time.monotonic()
            for record, attempt, tail in list(self._running.values()):
                returncode = attempt.proc.poll() if attempt.proc is not None else None
                if returncode is not None and time.monotonic() >= attempt.min_end:
                    self.finish_attempt(record, attempt, exit_code_of(returncode))
                elif pump:
                    tail.pump()
            if self._running:
                self._poll_handle = self.scheduler.call_later(self.config.poll_seconds, self._poll)

    def _on_timeout(self, record: RuntimeJob, attempt: Attempt) -> None:
        with self.lock:
            if not attempt.finished:
                attempt.timed_out = True
                self._kill_attempt(record, attempt)

    def _kill_attempt(self, record: RuntimeJob, attempt: Attempt) -> None:
        """SIGTERM the attempt's group, SIGKILL it after the grace period; synthetic runs end at once."""
        if attempt.finished:
            return
        if attempt.proc is None:
            self.finish_attempt(record, attempt, 128 + signal.SIGTERM)
            return
        attempt.min_end = 0.0
        signal_group(attempt.proc, signal.SIGTERM)
        proc = attempt.proc
        attempt.timers.append(
            self.scheduler.call_later(
                self.config.kill_grace_seconds, lambda: signal_group(proc, signal.SIGKILL)
            )
        )

    def finish_attempt(
        self,
        record: RuntimeJob,
        attempt: Attempt,
        exit_code: int | None,
        container_reason: str | None = None,
        status_reason: str | None = None,
    ) -> None:
        if attempt.finished:
            return
        attempt.finished = True
        for handle in attempt.timers:
            self.scheduler.cancel(handle)
        entry = self._running.pop(record.job_id, None)
        if attempt.proc is not None:
            kill_group(attempt.proc)  # the container is gone: so are its stray children
        if entry is not None:
            entry[2].pump(final=True)
        if attempt.timed_out:
            status_reason = TIMEOUT_REASON
        elif attempt.kill_reason:
            status_reason = attempt.kill_reason
        status_reason = status_reason or ESSENTIAL_EXITED
        container: dict[str, Any] = {"logStreamName": attempt.log_stream, "networkInterfaces": []}
        if exit_code is not None:
            container["exitCode"] = exit_code
        if container_reason:
            container["reason"] = container_reason
        done = {"container": container, "startedAt": attempt.started_ms, "stoppedAt": now_ms()}
        done["statusReason"] = status_reason
        record.attempts.append(done)
        record.exit_code, record.container_reason = exit_code, container_reason
        record.current = None
        self.capacity.release(record)
        self._dispatch_soon()
        killed = attempt.timed_out or attempt.kill_reason is not None
        if exit_code == 0 and not killed:
            self._finalize(record, "SUCCEEDED", ESSENTIAL_EXITED)
        elif not killed and should_retry(record, done):
            self._make_runnable(record)
        else:
            self._finalize(record, "FAILED", status_reason)
        if not self.config.keep_scratch and attempt.scratch is not None:
            shutil.rmtree(attempt.scratch, ignore_errors=True)

    def _cancel_queued(self, record: RuntimeJob, reason: str) -> None:
        self.capacity.discard_runnable(record.job_id)
        self._finalize(record, "FAILED", reason)

    def _finalize(self, record: RuntimeJob, status: str, reason: str | None) -> None:
        record.status_reason = reason
        record.stopped_ms = now_ms()
        self._set_status(record, status)
        for dependent_id in sorted(self._dependents.pop(record.job_id, set())):
            dependent = self.records.get(dependent_id)
            if dependent is None or dependent.status != "PENDING":
                continue
            if status == "FAILED":
                self._finalize(dependent, "FAILED", DEPENDENCY_FAILED)
            elif all(self._status_of(d["jobId"]) == "SUCCEEDED" for d in dependent.job.depends_on or []):
                self._make_runnable(dependent)
