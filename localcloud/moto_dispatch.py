"""How moto's server dispatches requests here: less work per request, AWS-shaped failures, and no
two requests inside moto's DynamoDB at once.

Less work: a directory listing is taken out of every request (same routing).

moto's DomainDispatcherApplication finds the backend for each request under a lock, and on the way
calls `moto.backends.list_of_moto_modules()`, which lists moto's package directory and stats each of
its ~170 entries, for every request. At a thousand jobs that was an eighth of the server's time
(py-spy), with every other request waiting on the lock meanwhile. The listing cannot change while
the process runs, so it is taken once; the backend found for a Host header is remembered too (the
regex scan over every service's URL patterns is a pure function of the host).

AWS-shaped failures: every response carries a request id, as AWS's do. An exception inside moto used
to reach werkzeug, which answered a bare 500 without one, and moto's Step Functions service
integrations then crashed the execution with ``KeyError('RequestId')`` while building the task's
error, so no Retry or Catch saw it. Now the failure is logged and answered 500 with a request id:
the task fails with an error the state machine can retry or catch.

One DynamoDB request at a time: moto's Query and Scan iterate a table's item dicts in Python while
another request thread may add an item ("dictionary changed size during iteration"). Its DynamoDB is
pure Python under the GIL, so serialising it costs no parallelism.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from moto import backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from werkzeug.exceptions import InternalServerError

logger = logging.getLogger(__name__)
REQUEST_ID_HEADER = "x-amzn-RequestId"
_REQUEST_ID_HEADERS = frozenset({"x-amzn-requestid", "x-amz-request-id"})
SERIALISED_SERVICES = frozenset({"dynamodb"})
_service_locks = {service: threading.Lock() for service in SERIALISED_SERVICES}

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules

    original = DomainDispatcherApplication.get_backend_for_host
    found: dict[str | None, Any] = {}

    def get_backend_for_host(self: DomainDispatcherApplication, host: str | None) -> Any:
        if host not in found:
            found[host] = original(self, host)
        return found[host]

    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host
    DomainDispatcherApplication.__call__ = _dispatch
    _installed = True


def _dispatch(
    self: DomainDispatcherApplication, environ: dict[str, Any], start_response: Callable
) -> Iterable:
    def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if not any(name.lower() in _REQUEST_ID_HEADERS for name, _ in headers):
            headers = [*headers, (REQUEST_ID_HEADER, str(uuid.uuid4()))]
        return start_response(status, headers, exc_info)

    try:
        app = self.get_application(environ)
        lock = _service_locks.get(getattr(app, "service", ""))
        if lock is None:
            return app(environ, start)
        with lock:
            return list(app(environ, start))  # the whole answer, before the next request goes in
    except Exception:
        logger.exception("moto failed on %s %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))
        return InternalServerError()(environ, start)
