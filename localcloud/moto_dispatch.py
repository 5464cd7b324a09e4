"""Take a directory listing out of every request moto's server dispatches (same routing, less work).

moto's DomainDispatcherApplication finds the backend for each request under a lock, and on the way
calls `moto.backends.list_of_moto_modules()`, which lists moto's package directory and stats each of
its ~170 entries, for every request. At a thousand jobs that was an eighth of the server's time
(py-spy), with every other request waiting on the lock meanwhile. The listing cannot change while
the process runs, so it is taken once; the backend found for a Host header is remembered too (the
regex scan over every service's URL patterns is a pure function of the host).
"""

from __future__ import annotations

from typing import Any

from moto import backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules  # type: ignore[assignment]

    original = DomainDispatcherApplication.get_backend_for_host
    found: dict[str | None, Any] = {}

    def get_backend_for_host(self: DomainDispatcherApplication, host: str | None) -> Any:
        if host not in found:
            found[host] = original(self, host)
        return found[host]

    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host  # type: ignore[method-assign]
    _installed = True
