"""Which invocation(s) of the benchmark a report comes from: its `--only` parts and start time."""

from __future__ import annotations

import time

from . import scale
from .harness import RunResult


def parts_of(results: list[RunResult]) -> str:
    """The `--only` parts one invocation's results hold: simulated sizes, real, 10k."""
    sizes = sorted({r.n for r in results if r.simulated and not scale.is_scale(r)})
    real = ["real"] if any(not r.simulated for r in results) else []
    return ",".join([*map(str, sizes), *real, *(["10k"] if any(map(scale.is_scale, results)) else [])])


def started_of(results: list[RunResult]) -> float:
    """When an invocation's first Snakemake run started (epoch s; its probe's start)."""
    return min((float(r.probe.get("started", 0.0)) for r in results), default=0.0)


def _started(results: list[RunResult]) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started_of(results)))


def invocation_of(results: list[RunResult]) -> str:
    return f"`python -m bench --only {parts_of(results)}` (first run started {_started(results)})"


def produced_by(plan: dict, results: list[RunResult], smoke: bool, invocations: list[str] | None) -> str:
    """The command (or the invocations, in order) that produced these results, for the report's header."""
    if invocations and len(invocations) > 1:
        return (
            f"{len(invocations)} invocations of the benchmark on the same machine (together the parts of "
            "`make bench`): " + ", then ".join(invocations)
        )
    parts = [str(n) for n, _ in plan["simulated"]] + (["real"] if plan.get("real") else [])
    command = (
        "`make bench` (`python -m bench`)"
        if plan.get("scale")
        else f"`python -m bench --only {','.join(parts)}`"
    )
    if not smoke and started_of(results):
        command += f", first run started {_started(results)}"
    return command
