"""One invocation of a deployed function's real handler, in a fresh process, as Lambda's Invoke API runs it.

Child side: ``python -m localcloud.lambda_invoke --function-name NAME --code-dir DIR`` reads the event JSON
on stdin, sets up the environment from the function's configuration on the local Lambda API (the same
set-up as :mod:`localcloud.lambda_worker`), calls the handler once and prints one JSON line on stdout:
``{"result": ..., "error": null | {"errorType", "errorMessage", "stackTrace"}}``. Everything the handler
prints goes to stderr, so the result line is the only thing on stdout.

Parent side: :func:`run_invocation` starts that process and returns an :class:`Invocation`.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
# Lambda gives init its own 10 s, apart from the function timeout; the parent adds it on top.
INIT_ALLOWANCE_S = 30.0


class HandlerTimeout(Exception):
    pass


@dataclass(frozen=True)
class Invocation:
    result: Any
    error: dict[str, Any] | None
    log: str

    def payload(self) -> bytes:
        """The Invoke API's response payload: the result, or Lambda's error document."""
        return json.dumps(self.error if self.error else self.result).encode()


def _error(error_type: str, message: str, trace: list[str] | None = None) -> dict[str, Any]:
    return {"errorType": error_type, "errorMessage": message, "stackTrace": trace or []}


def _from_exception(exc: BaseException, error_type: str | None = None) -> dict[str, Any]:
    trace = [line.rstrip("\n") for line in traceback.format_tb(exc.__traceback__)]
    return _error(error_type or type(exc).__name__, str(exc), trace)


def _call_handler(function_name: str, code_dir: Path, event: Any) -> dict[str, Any]:
    import boto3

    from localcloud.lambda_worker import Context, function_environment, load_handler

    config = boto3.client("lambda").get_function_configuration(FunctionName=function_name)
    os.environ.update(function_environment(function_name, config))
    try:
        handler = load_handler(code_dir, config["Handler"])
    except ImportError as exc:
        return {"result": None, "error": _from_exception(exc, "Runtime.ImportModuleError")}
    timeout = int(config.get("Timeout", 3))
    context = Context(function_name, config["FunctionArn"], config.get("MemorySize", 128), timeout)

    def expire(*_: object) -> None:
        raise HandlerTimeout(f"Task timed out after {timeout:.2f} seconds")

    signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        result = handler(event, context)
    except HandlerTimeout as exc:
        return {"result": None, "error": _error("Sandbox.Timedout", str(exc))}
    except Exception as exc:  # the function's error is the invocation's result
        return {"result": None, "error": _from_exception(exc)}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    try:
        json.dumps(result)
    except (TypeError, ValueError) as exc:
        return {"result": None, "error": _error("Runtime.MarshalError", f"Unable to marshal response: {exc}")}
    return {"result": result, "error": None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--function-name", required=True)
    parser.add_argument("--code-dir", required=True)
    args = parser.parse_args()
    # Keep stdout for the result line: whatever the handler or its loggers print goes to stderr.
    sys.stdout.flush()
    result_out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    raw = sys.stdin.read()
    outcome = _call_handler(args.function_name, Path(args.code_dir), json.loads(raw) if raw.strip() else {})
    sys.stdout.flush()
    result_out.write(json.dumps(outcome) + "\n")
    result_out.flush()


# -- parent side ------------------------------------------------------------------------------------


class InvocationProcesses:
    """The invocation processes running now, so the local cloud can kill them when it stops."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen] = set()
        self.closed = False

    def add(self, process: subprocess.Popen) -> None:
        with self._lock:
            self._running.add(process)

    def discard(self, process: subprocess.Popen) -> None:
        with self._lock:
            self._running.discard(process)

    def kill_all(self) -> None:
        with self._lock:
            self.closed = True
            running = list(self._running)
        for process in running:
            if process.poll() is None:
                process.kill()


def run_invocation(
    function_name: str,
    code_dir: Path,
    payload: bytes,
    env: dict[str, str],
    timeout_s: float,
    log_path: Path | None = None,
    processes: InvocationProcesses | None = None,
) -> Invocation:
    """Run the handler once in a fresh process; ``env`` points boto3 at the local cloud."""
    process = subprocess.Popen(
        [sys.executable, "-m", "localcloud.lambda_invoke", "--function-name", function_name,
         "--code-dir", str(code_dir)],
        cwd=REPO_ROOT,
        env={**os.environ, **env, "PYTHONPATH": str(REPO_ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    if processes is not None:
        processes.add(process)
    try:
        out, err = process.communicate(payload or b"{}", timeout=timeout_s + INIT_ALLOWANCE_S)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
    finally:
        if processes is not None:
            processes.discard(process)
    log = err.decode(errors="replace")
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("a") as handle:
            handle.write(log)
    lines = out.decode(errors="replace").strip().splitlines()
    if process.returncode != 0 or not lines:
        message = f"RequestId: local Error: Runtime exited with error: exit status {process.returncode}"
        return Invocation(None, _error("Runtime.ExitError", message), log)
    outcome = json.loads(lines[-1])
    return Invocation(outcome["result"], outcome["error"], log)


if __name__ == "__main__":
    main()
