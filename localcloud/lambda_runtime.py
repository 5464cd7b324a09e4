"""Runs every deployed Lambda function of the stack as a worker process (see lambda_worker)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from .deploy import REPO_ROOT, Deployment


def _detach_moto_pollers() -> None:
    """Switch off moto's own SQS -> Lambda dispatch: on every SendMessage it receives messages for
    the mapped function and, with no container to run it, leaves them in flight until the
    visibility timeout. Our workers are the only pollers, as Lambda's are on AWS."""
    from moto.sqs.models import sqs_backends

    for account in sqs_backends.values():
        for backend in account.values():
            for queue in backend.queues.values():
                queue.lambda_event_source_mappings.clear()


class LambdaRuntime:
    def __init__(
        self,
        deployment: Deployment,
        env: dict[str, str],
        workdir: Path,
        retry_delay: int = 2,
        duplicate_rate: float = 0.0,
        seed: int = 0,
    ) -> None:
        self.duplicate_rate = duplicate_rate
        self.seed = seed
        self.deployment = deployment
        self.env = env
        self.workdir = workdir
        self.retry_delay = retry_delay
        self.processes: dict[str, subprocess.Popen] = {}
        self._logs: list = []

    def start(self, timeout: float = 60) -> None:
        _detach_moto_pollers()
        self.workdir.mkdir(parents=True, exist_ok=True)
        for name, code_dir in self.deployment.function_code.items():
            ready = self.workdir / f"{name}.ready"
            ready.unlink(missing_ok=True)
            log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - closed in stop()
            self._logs.append(log)
            self.processes[name] = subprocess.Popen(
                [
                    sys.executable, "-m", "localcloud.lambda_worker",
                    "--function-name", name,
                    "--code-dir", str(code_dir),
                    "--ready-file", str(ready),
                    "--stats-file", str(self.stats_path(name)),
                    "--retry-delay", str(self.retry_delay),
                    "--duplicate-rate", str(self.duplicate_rate),
                    "--seed", str(self.seed),
                ],
                cwd=REPO_ROOT,
                env={**os.environ, **self.env, "PYTHONPATH": str(REPO_ROOT)},
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        for name, process in self.processes.items():
            ready = self.workdir / f"{name}.ready"
            while not ready.exists():
                if process.poll() is not None:
                    raise RuntimeError(
                        f"Lambda worker for {name} exited with {process.returncode}; "
                        f"see {self.workdir / name}.log"
                    )
                if time.monotonic() > deadline:
                    raise TimeoutError(f"Lambda worker for {name} not ready after {timeout} s")
                time.sleep(0.05)

    def stats_path(self, name: str) -> Path:
        return self.workdir / f"{name}.stats.json"

    def stats(self) -> dict[str, dict]:
        result = {}
        for name in self.processes:
            path = self.stats_path(name)
            if path.exists():
                result[name] = json.loads(path.read_text())
        return result

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in self._logs:
            log.close()
        self.processes.clear()
