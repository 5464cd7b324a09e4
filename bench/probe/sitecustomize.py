"""Loaded (via PYTHONPATH) only into the Snakemake process the benchmark starts; inert elsewhere.

Counts every AWS API call the process makes at the botocore level (`before-call`: one per API call,
`before-send`: one per HTTP attempt, retries included), attributed to the status round it happened in
(Snakemake's status thread, one `check_active_jobs` call per round) or to "other" (hand-off, storage).
Also records when each job was handed off and when Snakemake noticed it finished. Written as JSON to
$BENCH_PROBE_OUT at exit.
"""

from __future__ import annotations

import atexit
import json
import os
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

_OUT = os.environ.get("BENCH_PROBE_OUT")


def _install(out: str) -> None:
    import botocore.session
    from snakemake_interface_executor_plugins.executors.remote import RemoteExecutor

    lock = threading.Lock()
    local = threading.local()
    data: dict = {
        "started": time.time(),  # this process's start (near enough): Snakemake's own time before hand-off
        "rounds": [],
        "other": {},
        "other_sends": {},
        "submitted": {},
        "noticed": {},
        "first_call": {},
        # SQS bills each 64 KiB chunk of a request's payload as one request: chunks per operation,
        # from each HTTP attempt's body (the request's JSON, a little more than the payload).
        "sqs_chunks": {},
        # Time spent inside Snakemake's report_job_success/report_job_error: they take Snakemake's
        # scheduler lock, which its main thread holds while it post-processes finished jobs.
        "report_wait": {"calls": 0, "seconds": 0.0, "max": 0.0},
        # Snakemake's post-processing of finished jobs (JobScheduler._finish_jobs, on its main thread,
        # holding that lock): jobs, time, and the API calls made meanwhile on that thread (also in "other").
        "postprocess": {"jobs": 0, "seconds": 0.0, "calls": {}},
    }

    def _bucket(kind: str) -> dict:
        current = getattr(local, "round", None)
        if current is not None:
            return current[kind]
        return data["other" if kind == "calls" else "other_sends"]

    def before_call(event_name: str, **_: object) -> None:
        op = ".".join(event_name.split(".")[1:3])
        with lock:
            bucket = _bucket("calls")
            bucket[op] = bucket.get(op, 0) + 1
            data["first_call"].setdefault(op, time.time())
            if getattr(local, "postprocess", False):
                calls = data["postprocess"]["calls"]
                calls[op] = calls.get(op, 0) + 1

    def before_send(event_name: str, request: object = None, **_: object) -> None:
        op = ".".join(event_name.split(".")[1:3])
        body = getattr(request, "body", None)
        size = len(body) if isinstance(body, (bytes, str)) else 0
        with lock:
            bucket = _bucket("sends")
            bucket[op] = bucket.get(op, 0) + 1
            if op.startswith("sqs."):
                chunks = data["sqs_chunks"]
                chunks[op] = chunks.get(op, 0) + max(1, -(-size // 65536))

    session_class: Any = botocore.session.Session  # Any: a method of it is replaced below
    original_create_client = session_class.create_client

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = original_create_client(self, *args, **kwargs)
        client.meta.events.register("before-call", before_call)
        client.meta.events.register("before-send", before_send)
        return client

    session_class.create_client = create_client

    def wrap_check(check: Callable[[Any], AsyncIterator[Any]]) -> Callable[[Any], AsyncIterator[Any]]:
        async def counted(active_jobs: Any) -> AsyncIterator[Any]:
            current = {"active": len(active_jobs), "start": time.time(), "calls": {}, "sends": {}}
            local.round = current
            try:
                async for job_info in check(active_jobs):
                    yield job_info
            finally:
                local.round = None
                current["end"] = time.time()
                if active_jobs:
                    with lock:
                        data["rounds"].append(current)

        return counted

    def timed_finish(finish: Callable[[Any], None]) -> Callable[[Any], None]:
        def _finish_jobs(scheduler: Any) -> None:
            jobs, began = len(scheduler._tofinish), time.time()
            local.postprocess = True
            try:
                finish(scheduler)
            finally:
                local.postprocess = False
                with lock:
                    done = data["postprocess"]
                    done["jobs"] += jobs
                    done["seconds"] += time.time() - began

        return _finish_jobs

    original_wait = RemoteExecutor._wait_for_jobs

    async def _wait_for_jobs(self: Any) -> None:
        self.check_active_jobs = wrap_check(self.check_active_jobs)
        # Snakemake's scheduler is being built as its executors start: loaded, and no job finished yet.
        from snakemake.scheduling.job_scheduler import JobScheduler

        if not getattr(JobScheduler, "_bench_timed", False):
            JobScheduler._finish_jobs = timed_finish(JobScheduler._finish_jobs)
            JobScheduler._bench_timed = True
        await original_wait(self)

    RemoteExecutor._wait_for_jobs = _wait_for_jobs

    original_submission = RemoteExecutor.report_job_submission

    def report_job_submission(self: Any, job_info: Any) -> Any:
        data["submitted"][str(job_info.external_jobid)] = time.time()
        return original_submission(self, job_info)

    RemoteExecutor.report_job_submission = report_job_submission

    def noticing(original: Callable[..., Any], ok: bool) -> Callable[..., Any]:
        def noticed(self: Any, job_info: Any, *args: Any, **kwargs: Any) -> Any:
            called = time.time()
            data["noticed"][str(job_info.external_jobid)] = [called, ok]
            try:
                return original(self, job_info, *args, **kwargs)
            finally:
                waited = time.time() - called
                with lock:
                    wait = data["report_wait"]
                    wait["calls"] += 1
                    wait["seconds"] += waited
                    wait["max"] = max(wait["max"], waited)

        return noticed

    RemoteExecutor.report_job_success = noticing(RemoteExecutor.report_job_success, True)
    RemoteExecutor.report_job_error = noticing(RemoteExecutor.report_job_error, False)

    def dump() -> None:
        with lock:
            text = json.dumps(data)
        with open(out, "w") as handle:
            handle.write(text)

    atexit.register(dump)


if _OUT:
    _install(_OUT)
