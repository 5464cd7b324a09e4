"""A local AWS Batch: moto stores the resources, this runtime runs the jobs.

How it maps to AWS Batch
------------------------
- SubmitJob (through a moto server in this process) creates moto's Job object, so every moto Batch API
  still sees it, and hands it to an :class:`~localcloud.batch.engine.Engine` that moves it through
  SUBMITTED -> PENDING (dependsOn only) -> RUNNABLE -> STARTING -> RUNNING -> SUCCEEDED/FAILED.
- A "container" is a local process group started in a fresh scratch directory with the job
  definition's command (or containerOverrides.command, Ref:: parameters substituted) and environment
  (base_env + definition + overrides + resolved ``secrets`` + AWS_BATCH_JOB_ID/JQ_NAME/JOB_ATTEMPT/CE_NAME).
- Capacity is the compute environments' maxvCpus (default_vcpus when unset) against each job's VCPU
  requirement; RUNNABLE jobs start by queue priority, schedulingPriorityOverride, then submission order.
- attemptDurationSeconds, retryStrategy (attempts, evaluateOnExit), TerminateJob(s)/CancelJob(s),
  per-attempt CloudWatch log streams (/aws/batch/job, ``<definition>/default/<id>``) and a
  "Batch Job State Change" event on the default bus for every transition after SUBMITTED (detail =
  DescribeJobs' job without tags) behave as documented by AWS.
- Array jobs (:mod:`~localcloud.batch.arrays`): SubmitJob with ``arrayProperties.size`` 2-10,000 makes
  a parent that never runs (SUBMITTED, PENDING, then SUCCEEDED/FAILED from its children, with
  ``arrayProperties.statusSummary``) and children ``<parent id>:<index>`` that run, retry, time out, log
  and emit events each like a plain job, with AWS_BATCH_JOB_ARRAY_INDEX/SIZE in their processes' env;
  TerminateJob/CancelJob of the parent reach every child, ListJobs(arrayJobId) lists the children.
- Fault knobs (see :class:`~localcloud.batch.config.BatchRuntimeConfig`) throttle SubmitJob and
  duplicate, reorder, drop or delay events, deterministically for a seed (per child for arrays).

What it does not emulate
------------------------
Containers and images (no isolation: the command runs on this machine), memory limits, GPUs,
multi-node jobs, SEQUENTIAL and N_TO_N array dependencies (SubmitJob rejects them), EKS job definitions,
fair-share scheduling (shareIdentifier is recorded only), compute environment scaling and instance types, job-level tags propagation to tasks,
ListJobs pagination and its default RUNNING filter, and the activity of jobs across a moto reset.
"""

from __future__ import annotations

import threading

from .config import BatchRuntimeConfig
from .engine import Engine
from .faults import SubmitGate
from .moto_patch import install_patches, remove_patches

__all__ = ["BatchRuntime", "BatchRuntimeConfig", "active_runtime", "install", "uninstall"]

_lock = threading.Lock()
_active: BatchRuntime | None = None


class BatchRuntime:
    """The installed runtime: read ``engine`` for introspection, call ``stop()`` to take it out."""

    def __init__(self, config: BatchRuntimeConfig) -> None:
        self.config = config
        self.engine = Engine(config)
        self.gate = SubmitGate(config)

    @property
    def work_root(self) -> str:
        return str(self.engine.work_root)

    def running_pids(self) -> list[int]:
        """Process ids of the attempts that are running now (for tests and diagnostics)."""
        with self.engine.lock:
            return [
                attempt.proc.pid
                for _, attempt, _ in self.engine._running.values()
                if attempt.proc is not None and attempt.proc.poll() is None
            ]

    def stop(self) -> None:
        """Kill every job process group, stop the scheduler thread and restore moto."""
        uninstall(self)


def install(config: BatchRuntimeConfig | None = None) -> BatchRuntime:
    """Patch moto's Batch in this process so submitted jobs really run; idempotent for the same config."""
    global _active
    config = config or BatchRuntimeConfig()
    with _lock:
        if _active is not None:
            if _active.config is config or _active.config == config:
                return _active
            raise RuntimeError("another BatchRuntime is installed: call uninstall() first")
        runtime = BatchRuntime(config)
        install_patches(runtime.engine, runtime.gate)
        _active = runtime
        return runtime


def uninstall(runtime: BatchRuntime | None = None) -> None:
    """Stop the installed runtime (or ``runtime`` if it is the installed one); a no-op when none is."""
    global _active
    with _lock:
        if _active is None or (runtime is not None and runtime is not _active):
            return
        current, _active = _active, None
        remove_patches()
    current.engine.stop()


def active_runtime() -> BatchRuntime | None:
    return _active
