"""One scenario's result, and bench/RELIABILITY.md from all of them."""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass
class Outcome:
    name: str
    fault: str  # what was done to the system
    target: str  # what must hold, in words
    passed: bool
    measured: str  # the figures behind the verdict, in words
    figures: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0  # wall time of the scenario, local cloud start included

    def line(self) -> str:
        return (
            f"- **{'PASS' if self.passed else 'FAIL'}** {self.name}: {self.target}. Measured: {self.measured}"
        )


def render(outcomes: list[Outcome], jobs: int, smoke: bool) -> str:
    passed = sum(o.passed for o in outcomes)
    lines = [
        "# Reliability: the chaos suite on the local cloud",
        "",
        f"Produced by `make chaos` (`python -m bench.chaos{' --smoke' if smoke else ''}`) on "
        f"{datetime.now(UTC):%Y-%m-%d}, {platform.machine()} with Python {platform.python_version()}. "
        f"Each scenario ran on a local cloud of its own (moto on 127.0.0.1, this repo's Lambda workers and "
        f"local Batch, simulated job execution) at **{jobs:,} jobs**, with one kind of fault turned on. Every "
        "count of Batch jobs is read from the local Batch's own job list, not from this stack's records.",
        "",
        f"## Targets: {passed} of {len(outcomes)} PASS",
        "",
        *(o.line() for o in outcomes),
        "",
        "## Scenarios",
        "",
        "| scenario | fault injected | wall time |",
        "|---|---|---|",
        *(f"| {o.name} | {o.fault} | {o.seconds:.0f} s |" for o in outcomes),
        "",
        "## Figures",
        "",
    ]
    for o in outcomes:
        lines.append(f"- {o.name}: " + ", ".join(f"{k} {v}" for k, v in o.figures.items()))
    return "\n".join(lines) + "\n"
