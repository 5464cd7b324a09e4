"""Installs the local runtime into moto's Batch (in this process) and takes it out again."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jsonpath_ng.ext as jsonpath_ext
import moto.batch.urls as batch_urls
from moto.batch.models import BatchBackend, Job
from moto.batch.responses import BatchResponse
from moto.core.utils import convert_regex_to_flask_path
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, convert_to_flask_response
from werkzeug.routing import Rule

from .describe import describe, describe_short
from .engine import Engine
from .faults import SubmitGate
from .lifecycle import merge_env
from .submit import bulk, handle_submit

BULK_PATHS = {"{0}/v1/terminatejobs$": BatchResponse.dispatch, "{0}/v1/canceljobs$": BatchResponse.dispatch}
_originals: dict[tuple[Any, str], Any] = {}


def _replace(owner: Any, name: str, value: Any) -> None:
    if (owner, name) not in _originals:
        _originals[(owner, name)] = owner.__dict__.get(name, _MISSING)
    setattr(owner, name, value)


_MISSING = object()


def _add_bulk_routes(app: Any) -> None:
    """Register TerminateJobs/CancelJobs on a batch Flask app that was built before install()."""
    if getattr(app, "_lc_bulk_routes", False):
        return
    view = convert_to_flask_response(BatchResponse.dispatch)
    for index, path in enumerate(BULK_PATHS):
        endpoint = f"localcloud_batch_bulk_{index}"
        app.view_functions[endpoint] = view
        app.url_map.add(
            Rule(convert_regex_to_flask_path(path.format("")), endpoint=endpoint, strict_slashes=False)
        )
    app._lc_bulk_routes = True


def install_patches(engine: Engine, gate: SubmitGate) -> None:
    original_get_application: Callable[..., Any] = DomainDispatcherApplication.get_application
    original_terminate = BatchBackend.terminate_job
    original_cancel = BatchBackend.cancel_job
    original_reset = BatchBackend.reset
    original_describe = Job.describe
    original_describe_short = Job.describe_short
    original_list_jobs = BatchBackend.list_jobs

    def get_application(self: DomainDispatcherApplication, environ: dict[str, Any]) -> Any:
        app = original_get_application(self, environ)
        if getattr(app, "service", None) == "batch":
            _add_bulk_routes(app)
        return app

    def terminate_job(self: BatchBackend, job_id: str, reason: str) -> None:
        if not (job_id and reason and engine.terminate(job_id, reason)):
            original_terminate(self, job_id, reason)

    def cancel_job(self: BatchBackend, job_id: str, reason: str) -> None:
        if not (job_id and reason and engine.cancel(job_id, reason)):
            original_cancel(self, job_id, reason)

    def reset(self: BatchBackend) -> None:
        engine.forget(self.account_id, self.region_name)
        original_reset(self)

    def job_describe(self: Job) -> dict[str, Any]:
        record = getattr(self, "_lc_record", None)
        if record is None:
            return original_describe(self)
        with engine.lock:
            return describe(record)

    def job_describe_short(self: Job) -> dict[str, Any]:
        record = getattr(self, "_lc_record", None)
        if record is None:
            return original_describe_short(self)
        with engine.lock:
            return describe_short(record)

    def describe_jobs(self: BatchBackend, jobs: list[str] | None) -> list[dict[str, Any]]:
        # moto iterates self._jobs while SubmitJob, in another request thread, adds to it
        # ("dictionary changed size during iteration", a 500). Look the ids up instead (AWS's order
        # is unspecified too); list everything from a snapshot, which the GIL copies in one step.
        if not jobs:
            return [job.describe() for job in list(self._jobs.values())]
        found: dict[str, Any] = {}
        for ident in jobs:
            short = ident.rsplit("/", 1)[-1]
            job = self._jobs.get(ident) or self._jobs.get(short)
            if job is None:  # an array child "P:i" (or its ARN): the engine's, not moto's
                child = engine.records.get(short)
                job = child.job if child is not None and child.parent is not None else None
            if job is not None and (job.job_id == ident or job.arn == ident):
                found.setdefault(job.job_id, job)
        return [job.describe() for job in found.values()]

    def list_jobs(
        self: BatchBackend,
        job_queue_name: str | None,
        array_job_id: str | None,
        job_status: str | None = None,
        filters: list[dict[str, Any]] | None = None,
    ) -> list[Any]:
        # AWS: "The filter doesn't apply to child jobs in an array"
        if array_job_id:
            filters = None
        return original_list_jobs(self, job_queue_name, array_job_id, job_status, filters)

    def get_container_property(self: Job, p: str, default: Any) -> Any:
        # moto appends AWS_BATCH_JOB_ID to the overrides' own list on every DescribeJobs call
        if p == "environment":
            return merge_env(
                self.job_definition.container_properties.get("environment") or [],
                self.container_overrides.get("environment") or [],
            )
        return _originals[(Job, "_get_container_property")](self, p, default)

    _replace(DomainDispatcherApplication, "get_application", get_application)
    _replace(BatchBackend, "terminate_job", terminate_job)
    _replace(BatchBackend, "cancel_job", cancel_job)
    _replace(BatchBackend, "reset", reset)
    _replace(BatchBackend, "describe_jobs", describe_jobs)
    _replace(BatchBackend, "list_jobs", list_jobs)
    _replace(Job, "describe", job_describe)
    _replace(Job, "describe_short", job_describe_short)
    _replace(Job, "_get_container_property", get_container_property)
    _replace(BatchResponse, "submitjob", lambda self: handle_submit(engine, gate, self))
    original_terminate_response = BatchResponse.terminatejob

    def terminate_response(self: BatchResponse) -> str:
        gate.check_terminate()
        return original_terminate_response(self)

    def terminate_bulk_response(self: BatchResponse) -> str:
        gate.check_terminate()
        return bulk(engine, self, "terminate")

    _replace(BatchResponse, "terminatejob", terminate_response)
    _replace(BatchResponse, "terminatejobs", terminate_bulk_response)
    _replace(BatchResponse, "canceljobs", lambda self: bulk(engine, self, "cancel"))
    # moto re-parses the same JSONPath expressions for every event and target (~3 ms each)
    _replace(jsonpath_ext, "parse", functools.lru_cache(maxsize=512)(jsonpath_ext.parse))
    batch_urls.url_paths.update(BULK_PATHS)


def remove_patches() -> None:
    for (owner, name), original in _originals.items():
        if original is _MISSING:
            delattr(owner, name)
        else:
            setattr(owner, name, original)
    _originals.clear()
    for path in BULK_PATHS:
        batch_urls.url_paths.pop(path, None)
