"""Runs every deployed Lambda function of the stack as worker processes (see lambda_worker).

As many workers per SQS-mapped function as Lambda would run execution environments for it: the sum of
its event source mappings' ScalingConfig.MaximumConcurrency, else the function's reserved concurrency, else 1,
read from the local Lambda API (where the deployed template put them) and capped by `max_concurrency`
(this machine has few cores). A function without an SQS mapping (invoked through the Invoke API) gets
one idle worker.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3

from .deploy import REPO_ROOT, Deployment

DEFAULT_MAX_CONCURRENCY = 5
_SUMMED = (
    "invocations", "records", "failed_records", "handler_cpu_seconds",
    "handler_wall_seconds", "billed_ms", "log_bytes",
)  # fmt: skip
_SLOWEST = ("import_seconds", "first_invocation_seconds", "first_invocation_cpu_seconds")


def _detach_moto_pollers() -> None:
    """Switch off moto's own SQS -> Lambda dispatch: on every SendMessage it receives messages for
    the mapped function and, with no container to run it, leaves them in flight until the
    visibility timeout. Our workers are the only pollers, as Lambda's are on AWS."""
    from moto.sqs.models import sqs_backends

    for account in sqs_backends.values():
        for backend in account.values():
            for queue in backend.queues.values():
                queue.lambda_event_source_mappings.clear()


def function_concurrency(lam: Any, name: str) -> int:
    """Execution environments Lambda would run for a function's SQS event source (before any cap)."""
    mappings = [
        m
        for m in lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]
        if ":sqs:" in m["EventSourceArn"]
    ]
    if not mappings:
        return 1
    # Lambda scales each mapping on its own: a function with two gets up to the sum of their limits.
    limits = [m["ScalingConfig"]["MaximumConcurrency"] for m in mappings if m.get("ScalingConfig")]
    if limits:
        return max(1, sum(limits))
    reserved = lam.get_function(FunctionName=name).get("Concurrency", {}).get("ReservedConcurrentExecutions")
    return max(1, int(reserved)) if reserved else 1


class LambdaRuntime:
    def __init__(
        self,
        deployment: Deployment,
        env: dict[str, str],
        workdir: Path,
        retry_delay: int = 2,
        duplicate_rate: float = 0.0,
        seed: int = 0,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        deliveries: dict[str, int] | None = None,
    ) -> None:
        self.duplicate_rate = duplicate_rate
        # Fault knob: function name -> how many times each of its SQS messages is handled.
        self.deliveries = deliveries or {}
        self.seed = seed
        self.deployment = deployment
        self.env = env
        self.workdir = workdir
        self.retry_delay = retry_delay
        self.max_concurrency = max(1, max_concurrency)
        self.concurrency: dict[str, int] = {}
        self.processes: dict[str, list[subprocess.Popen]] = {}
        self._logs: list = []

    def _lambda_client(self) -> Any:
        return boto3.client(
            "lambda",
            endpoint_url=self.env["AWS_ENDPOINT_URL"],
            region_name=self.env.get("AWS_DEFAULT_REGION") or self.env.get("AWS_REGION"),
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
        )

    def start(self, timeout: float = 60) -> None:
        _detach_moto_pollers()
        self.workdir.mkdir(parents=True, exist_ok=True)
        lam = self._lambda_client()
        for name, code_dir in self.deployment.function_code.items():
            count = min(self.max_concurrency, function_concurrency(lam, name))
            self.concurrency[name] = count
            self.processes[name] = [self._spawn(name, code_dir, index) for index in range(count)]
        deadline = time.monotonic() + timeout
        for name, workers in self.processes.items():
            for index, process in enumerate(workers):
                ready = self._path(name, index, "ready")
                while not ready.exists():
                    if process.poll() is not None:
                        raise RuntimeError(
                            f"Lambda worker {index} for {name} exited with {process.returncode}; "
                            f"see {self._path(name, index, 'log')}"
                        )
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"Lambda worker {index} for {name} not ready after {timeout} s")
                    time.sleep(0.05)

    def _path(self, name: str, index: int, kind: str) -> Path:
        return self.workdir / f"{name}.{index}.{kind}"

    def _spawn(self, name: str, code_dir: Path, index: int) -> subprocess.Popen:
        ready = self._path(name, index, "ready")
        ready.unlink(missing_ok=True)
        log = open(self._path(name, index, "log"), "ab")  # noqa: SIM115 - closed in stop()
        self._logs.append(log)
        return subprocess.Popen(
            [
                sys.executable, "-m", "localcloud.lambda_worker",
                "--function-name", name,
                "--code-dir", str(code_dir),
                "--ready-file", str(ready),
                "--stats-file", str(self._path(name, index, "stats.json")),
                "--retry-delay", str(self.retry_delay),
                "--duplicate-rate", str(self.duplicate_rate),
                "--deliveries", str(self.deliveries.get(name, 1)),
                "--seed", f"{self.seed}:{index}",
            ],
            cwd=REPO_ROOT,
            env={**os.environ, **self.env, "PYTHONPATH": str(REPO_ROOT)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip

    def stats(self) -> dict[str, dict]:
        """Per function, summed over its workers; cold-start figures are the slowest worker's."""
        result: dict[str, dict] = {}
        for name, workers in self.processes.items():
            for index in range(len(workers)):
                path = self._path(name, index, "stats.json")
                if not path.exists():
                    continue
                data = json.loads(path.read_text())
                total = result.setdefault(name, {"workers": 0})
                total["workers"] += 1
                for key in _SLOWEST:
                    if key in data:
                        total[key] = max(total.get(key, 0.0), data[key])
                for key in _SUMMED:
                    total[key] = total.get(key, 0) + data.get(key, 0)
                for key in ("calls", "call_cpu_seconds", "worker_calls"):
                    into = total.setdefault(key, {})
                    for op, value in data.get(key, {}).items():
                        into[op] = into.get(op, 0) + value
        return result

    def stop(self) -> None:
        everyone = [p for workers in self.processes.values() for p in workers]
        for process in everyone:
            if process.poll() is None:
                process.terminate()
        for process in everyone:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in self._logs:
            log.close()
        self.processes.clear()
