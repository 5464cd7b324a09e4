"""Lambda's Invoke API runs the real handler: moto's LambdaFunction.invoke, patched in-process.

RequestResponse runs the handler in a fresh process (:mod:`localcloud.lambda_invoke`) and answers with
its result, or with Lambda's error document and ``X-Amz-Function-Error: Unhandled``; ``LogType: Tail``
returns the last 4 KB of the log. Event (asynchronous) answers 202 at once and runs the handler in a
thread; DryRun answers 204. Functions the local cloud does not know keep moto's canned replies.
"""

from __future__ import annotations

import base64
import logging
import threading
from pathlib import Path
from typing import Any

from moto.awslambda.models import LambdaFunction

from ..lambda_invoke import Invocation, InvocationProcesses, run_invocation
from .patches import Patches

logger = logging.getLogger(__name__)
TAIL_BYTES = 4096


class FunctionRunner:
    """Runs invocations of the functions it knows: function name -> code directory."""

    def __init__(self, function_code: dict[str, Path], env: dict[str, str], workdir: Path) -> None:
        self.function_code = dict(function_code)
        self.env = env
        self.workdir = workdir
        self.processes = InvocationProcesses()
        self._threads: list[threading.Thread] = []

    def knows(self, function_name: str) -> bool:
        return function_name in self.function_code

    def invoke(self, function_name: str, payload: bytes, timeout_s: float) -> Invocation:
        return run_invocation(
            function_name,
            self.function_code[function_name],
            payload,
            self.env,
            timeout_s,
            log_path=self.workdir / f"{function_name}.log",
            processes=self.processes,
        )

    def invoke_async(self, function_name: str, payload: bytes, timeout_s: float) -> None:
        """Lambda's Event invocation: run in a thread; a failure is logged (no retries, no DLQ here)."""

        def run() -> None:
            if self.processes.closed:
                return
            invocation = self.invoke(function_name, payload, timeout_s)
            if invocation.error and not self.processes.closed:
                logger.error("async invocation of %s failed: %s", function_name, invocation.error)

        thread = threading.Thread(target=run, name=f"lambda-async-{function_name}", daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def stop(self, timeout: float = 10) -> None:
        self.processes.kill_all()
        for thread in self._threads:
            thread.join(timeout)


def install(patches: Patches, runner: FunctionRunner) -> None:
    original_invoke = LambdaFunction.invoke

    def invoke(self: LambdaFunction, body: Any, request_headers: Any, response_headers: Any) -> bytes:
        name = str(self.function_name)
        if not runner.knows(name):
            return original_invoke(self, body, request_headers, response_headers)
        payload = body.encode() if isinstance(body, str) else (body or b"{}")
        invocation_type = request_headers.get("x-amz-invocation-type", "RequestResponse")
        timeout = float(self.timeout or 3)
        if invocation_type == "DryRun":
            return b""
        if invocation_type == "Event":
            runner.invoke_async(name, payload, timeout)
            return b""
        invocation = runner.invoke(name, payload, timeout)
        if invocation.error:
            response_headers["x-amz-function-error"] = "Unhandled"
        tail = invocation.log.encode()[-TAIL_BYTES:]
        response_headers["x-amz-log-result"] = base64.b64encode(tail).decode()
        return invocation.payload()

    patches.replace(LambdaFunction, "invoke", invoke)
