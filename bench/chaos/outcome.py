"""One scenario's result, and bench/RELIABILITY.md from all of them."""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
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


def save(path: Path, jobs: int, outcomes: list[Outcome]) -> None:
    """The raw outcomes, so the report can be written again without running anything."""
    path.write_text(json.dumps({"jobs": jobs, "outcomes": [asdict(o) for o in outcomes]}, default=str))


def load(path: Path) -> tuple[int, list[Outcome]]:
    saved = json.loads(path.read_text())
    return saved["jobs"], [Outcome(**o) for o in saved["outcomes"]]


def render(outcomes: list[Outcome], jobs: int, smoke: bool) -> str:
    passed = sum(o.passed for o in outcomes)
    lines = [
        "# Reliability: the chaos suite on the local cloud",
        "",
        f"Produced by `make chaos` (`python -m bench.chaos{' --smoke' if smoke else ''}`) on "
        f"{datetime.now(UTC):%Y-%m-%d}, {platform.machine()} with Python {platform.python_version()}. "
        f"Each scenario ran on a local cloud of its own (moto on 127.0.0.1, this repo's Lambda workers and "
        f"local Batch, simulated job execution) at **{jobs:,} jobs**, with one kind of fault turned on (the "
        "array scenario: two at once). Every count of Batch jobs is read from the local Batch's own job list, "
        "not from this stack's records.",
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
    return "\n".join([*lines, "", *NOTES]) + "\n"


NOTES = [
    "## How to read it",
    "",
    '- **Ctrl-C.** The submit function may reuse a fresh "not cancelled" read for up to 2 s before '
    "SubmitJob (`CANCEL_CHECK_REUSE_SECONDS`), and always reads the cancel marks again after its delivery's "
    "last SubmitJob: a spec picked up in that window still reaches Batch and is terminated by that re-check. "
    'Those are the jobs "created after the mark"; the target is that none of them runs to completion and '
    "none is left active.",
    "- **Dropped events.** A job whose final event is lost is found when its record has had no news for the "
    "plugin's reconcile-after period: its wait is at most that period plus one status round and one reconcile "
    "call, and less when the job ran for part of the period (here each job runs 30 s).",
    "- **Bad inputs.** An input that names no job or run this stack may write (unparseable, nested past any "
    "parser's limit, another table's job, the run's control item `#run`) cannot have a record of its own: a "
    "spec is recorded under `_unparseable/<SQS message id>`, an event is dropped as foreign, and the run it "
    "named must be unchanged.",
    "- **Not shown here.** The local cloud is moto plus this repository's Lambda and Batch runtime on one "
    "machine: IAM is not enforced, and AWS's own latencies, throttles and failure modes are emulated, not "
    "met. A Lambda invocation killed mid-delivery is covered by unit tests (the claim lease and the "
    "uncertain-submit path), not by a scenario here.",
]
