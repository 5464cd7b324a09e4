"""pipe() outputs, which Snakemake would upload from inside the Batch job and so hang it.

Snakemake applies the default storage provider to every output, pipes included (its `pipe()` refuses
an explicit `storage()`, the default one is not checked). Inside a remote job, once the group's rules
have run, Snakemake 9 stores every output that exists locally; a pipe is a FIFO, and reading a FIFO
with no writer never ends: the Batch job stays RUNNING until its timeout, or forever without one.
tests/e2e/test_streams.py keeps a Snakemake job doing exactly that, so this refusal goes when a
Snakemake release stops doing it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from snakemake.io import get_flag_value, is_flagged


def _declared(item: Any, prefix: str) -> str:
    """The output as the Snakefile declares it, without the default storage prefix."""
    storage = get_flag_value(item, "storage_object")
    query = str(storage.query) if storage is not None else str(item)
    return query.removeprefix(prefix.rstrip("/") + "/") if prefix else query


def stream_problems(rules: Iterable[Any], default_storage_prefix: str | None) -> list[str]:
    """One message per rule with a pipe() output in storage, saying what to write instead."""
    problems = []
    for rule in sorted({r.name: r for r in rules}.values(), key=lambda r: r.name):
        for item in rule.output:
            if not (is_flagged(item, "pipe") and is_flagged(item, "storage_object")):
                continue
            path = _declared(item, default_storage_prefix or "")
            problems.append(
                f"rule {rule.name}: output pipe({path!r}) would hang its Batch job: inside a remote job "
                f"Snakemake uploads every output to the default storage once the job's rules have run, a "
                f"pipe's FIFO included, and reading a FIFO nobody writes to never ends. Write "
                f"temp({path!r}, group_jobs=True) instead (the file stays on the Batch instance and the "
                f"rules that share it run as one Batch job), or join the commands in one rule"
            )
    return problems


def job_rules(job: Any) -> list[Any]:
    """The rules a job runs: a group job's members' rules, or the job's own."""
    return [member.rule for member in job.jobs] if job.is_group() else [job.rule]
