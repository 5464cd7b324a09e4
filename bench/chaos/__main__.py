"""`python -m bench.chaos [--smoke] [--only NAME ...]`: run the scenarios, print and write the report."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from ..harness import HERE
from .arrays import array_faults
from .bad_input import bad_inputs
from .coordinator import coordinator_killed
from .events_replay import event_permutations
from .outcome import Outcome, load, render, save
from .workloads import ctrl_c, dropped_events, duplicate_delivery, throttled_submit

FULL_JOBS, SMOKE_JOBS = 1000, 30

SCENARIOS: dict[str, Callable[[int, Path], Outcome]] = {
    "duplicates": duplicate_delivery,
    "permutations": event_permutations,
    "dropped-events": dropped_events,
    "throttled-submit": throttled_submit,
    "bad-input": bad_inputs,
    "ctrl-c": ctrl_c,
    "coordinator-killed": coordinator_killed,
    "arrays": array_faults,
}


def _say(text: str) -> None:
    print(f"[chaos {time.strftime('%H:%M:%S')}] {text}", flush=True)


def run(names: list[str], jobs: int, workdir: Path) -> list[Outcome]:
    outcomes = []
    for name in names:
        _say(f"{name}: {jobs:,} jobs")
        started = time.monotonic()
        try:
            outcome = SCENARIOS[name](jobs, workdir)
        except Exception as exc:  # a scenario that breaks is a FAIL with its reason, not a lost report
            traceback.print_exc()
            outcome = Outcome(name, "-", "the scenario runs to its end", False, f"it raised {exc!r}")
        outcome.seconds = time.monotonic() - started
        _say(outcome.line())
        outcomes.append(outcome)
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__)
    parser.add_argument(
        "--smoke", action="store_true", help=f"{SMOKE_JOBS} jobs a scenario; no report written"
    )
    parser.add_argument(
        "--jobs", type=int, help=f"jobs per scenario (default {FULL_JOBS:,}, smoke {SMOKE_JOBS})"
    )
    parser.add_argument("--only", nargs="+", choices=sorted(SCENARIOS), help="run these scenarios only")
    parser.add_argument("--out", type=Path, default=HERE, help="where RELIABILITY.md goes")
    parser.add_argument(
        "--render", type=Path, metavar="OUTCOMES_JSON",
        help="write the report from a previous run's outcomes.json instead of running anything",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.render:
        jobs, outcomes = load(args.render)
    else:
        jobs = args.jobs or (SMOKE_JOBS if args.smoke else FULL_JOBS)
        workdir = Path(tempfile.mkdtemp(prefix="chaos-"))
        _say(f"work directory {workdir}")
        outcomes = run(args.only or list(SCENARIOS), jobs, workdir)
        raw = workdir / "outcomes.json"
        save(raw, jobs, outcomes)
        _say(f"raw outcomes in {raw} (re-render: python -m bench.chaos --render FILE)")
    report = render(outcomes, jobs, smoke=args.smoke)
    print(report)
    if not args.smoke and not args.only:
        (args.out / "RELIABILITY.md").write_text(report)
        _say(f"wrote {args.out / 'RELIABILITY.md'}")
    return 0 if all(o.passed for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
