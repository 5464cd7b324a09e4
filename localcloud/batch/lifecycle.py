"""A job's state as the local runtime tracks it, and the AWS rules that move it: retries, env, vCPUs."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from .config import JobBehaviour

TERMINAL = ("SUCCEEDED", "FAILED")
BEFORE_STARTING = ("SUBMITTED", "PENDING", "RUNNABLE")
ESSENTIAL_EXITED = "Essential container in task exited"
TIMEOUT_REASON = "Job attempt duration exceeded timeout"
DEPENDENCY_FAILED = "Dependent Job failed"


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Attempt:
    """One try of a job: a process (or a simulated/synthetic run) and its log stream."""

    number: int
    started_ms: int
    log_stream: str
    scratch: Path | None = None
    log_path: Path | None = None
    proc: subprocess.Popen[bytes] | None = None
    behaviour: JobBehaviour | None = None
    min_end: float = 0.0  # monotonic time before which the attempt may not finish (run_seconds)
    kill_reason: str | None = None  # TerminateJob's reason, or the timeout reason
    timed_out: bool = False
    timers: list[int] = field(default_factory=list)
    exit_code: int | None = None
    finished: bool = False


@dataclass
class RuntimeJob:
    """Everything DescribeJobs reports about one job, plus what the runtime needs to run it."""

    job: Any  # moto.batch.models.Job, kept in the backend so every moto API still sees the job
    account: str
    region: str
    seq: int
    priority: int
    vcpus: float
    container: dict[str, Any]  # the job definition's containerProperties with the overrides applied
    retry_strategy: dict[str, Any] | None
    timeout: dict[str, Any] | None
    propagate_tags: bool
    share_identifier: str | None
    status: str = "SUBMITTED"
    status_reason: str | None = None
    created_ms: int = field(default_factory=now_ms)
    started_ms: int | None = None
    stopped_ms: int | None = None
    attempts: list[dict[str, Any]] = field(default_factory=list)
    current: Attempt | None = None
    ce_arn: str | None = None
    exit_code: int | None = None
    container_reason: str | None = None
    log_stream: str | None = None
    array: Any = None  # an array parent's ArrayState (localcloud.batch.arrays)
    parent: RuntimeJob | None = None  # an array child's parent
    array_index: int | None = None  # an array child's index

    @property
    def job_id(self) -> str:
        return str(self.job.job_id)

    @property
    def name(self) -> str:
        return str(self.job.job_name)

    @property
    def max_attempts(self) -> int:
        return int((self.retry_strategy or {}).get("attempts") or 1)

    @property
    def attempt_duration(self) -> int | None:
        value = (self.timeout or {}).get("attemptDurationSeconds")
        return int(value) if value else None


def merge_env(base: list[dict[str, str]], override: list[dict[str, str]]) -> list[dict[str, str]]:
    """Job definition environment updated by the SubmitJob overrides (override wins, order kept)."""
    merged = {e["name"]: e["value"] for e in base}
    merged.update({e["name"]: e["value"] for e in override})
    return [{"name": k, "value": v} for k, v in merged.items()]


def merge_requirements(base: list[dict[str, str]], override: list[dict[str, str]]) -> list[dict[str, str]]:
    merged = {r["type"]: r["value"] for r in base}
    merged.update({r["type"]: r["value"] for r in override})
    return [{"type": k, "value": v} for k, v in merged.items()]


def substitute_parameters(command: list[str], parameters: dict[str, str]) -> list[str]:
    """Replace Ref::name placeholders, as Batch does before starting the container."""
    out = []
    for part in command:
        for key, value in parameters.items():
            part = part.replace(f"Ref::{key}", value)
        out.append(part)
    return out


def effective_container(
    definition: dict[str, Any], overrides: dict[str, Any], params: dict[str, str]
) -> dict:
    """containerProperties after SubmitJob's containerOverrides, the way DescribeJobs shows them."""
    container = {k: v for k, v in definition.items() if k not in ("environment", "resourceRequirements")}
    container["command"] = substitute_parameters(
        list(overrides.get("command") or definition.get("command") or []), params
    )
    container["environment"] = merge_env(
        definition.get("environment") or [], overrides.get("environment") or []
    )
    requirements = merge_requirements(
        definition.get("resourceRequirements") or [], overrides.get("resourceRequirements") or []
    )
    if requirements:
        container["resourceRequirements"] = requirements
    for key in ("instanceType", "vcpus", "memory"):
        if key in overrides:
            container[key] = overrides[key]
    container.setdefault("volumes", [])
    container.setdefault("mountPoints", [])
    container.setdefault("ulimits", [])
    container.setdefault("secrets", [])
    container["networkInterfaces"] = []
    return container


def vcpus_of(container: dict[str, Any]) -> float:
    for requirement in container.get("resourceRequirements", []):
        if requirement["type"] == "VCPU":
            return float(requirement["value"])
    return float(container.get("vcpus") or 1)


def _glob(pattern: str | None, value: str | None) -> bool:
    if pattern is None:
        return True
    return value is not None and fnmatchcase(value, pattern)


def should_retry(record: RuntimeJob, attempt: dict[str, Any]) -> bool:
    """AWS's retry decision after a failed attempt: first matching evaluateOnExit rule wins."""
    if len(record.attempts) >= record.max_attempts:
        return False
    container = attempt.get("container", {})
    exit_code = container.get("exitCode")
    for rule in (record.retry_strategy or {}).get("evaluateOnExit") or []:
        if (
            _glob(rule.get("onExitCode"), None if exit_code is None else str(exit_code))
            and _glob(rule.get("onStatusReason"), attempt.get("statusReason"))
            and _glob(rule.get("onReason"), container.get("reason"))
        ):
            return str(rule.get("action", "")).upper() == "RETRY"
    return True


def validate_retry_strategy(strategy: dict[str, Any] | None) -> str | None:
    """An AWS-worded problem with the retry strategy, or None."""
    if not strategy:
        return None
    attempts = strategy.get("attempts")
    if attempts is not None and not 1 <= int(attempts) <= 10:
        return "Error executing request, Exception : Attempts must be between 1 and 10."
    rules = strategy.get("evaluateOnExit") or []
    if len(rules) > 5:
        return "Error executing request, Exception : evaluateOnExit must have at most 5 items."
    for rule in rules:
        if str(rule.get("action", "")).upper() not in ("RETRY", "EXIT"):
            return "Error executing request, Exception : evaluateOnExit action must be RETRY or EXIT."
    return None
