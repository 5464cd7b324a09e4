"""A scenario whose seeded fault missed every job is drawn again with the next seed, and says so."""

from __future__ import annotations

from bench.chaos.cloud import SEEDS, until_struck
from bench.chaos.outcome import Outcome


def _scenario(strikes_with: set[int], calls: list[int]):
    def run(seed: int) -> tuple[Outcome, bool]:
        calls.append(seed)
        struck = seed in strikes_with
        return Outcome("s", "f", "t", passed=struck, measured=f"drawn with {seed}"), struck

    return run


def test_a_fault_that_struck_at_once_is_run_once() -> None:
    calls: list[int] = []
    outcome = until_struck(_scenario({SEEDS[0]}, calls))
    assert calls == [SEEDS[0]]
    assert outcome.measured == f"drawn with {SEEDS[0]}"
    assert outcome.figures["seed"] == SEEDS[0]


def test_a_fault_that_missed_is_drawn_again_and_the_outcome_names_the_seeds() -> None:
    calls: list[int] = []
    outcome = until_struck(_scenario({SEEDS[2]}, calls))
    assert calls == list(SEEDS[:3])
    assert outcome.passed
    assert outcome.measured.endswith(
        f"(seed {SEEDS[2]}; the fault missed every job with seed {SEEDS[0]}, {SEEDS[1]})"
    )
    assert outcome.figures["seed"] == SEEDS[2]


def test_a_fault_that_never_struck_stays_a_failure_after_every_seed() -> None:
    calls: list[int] = []
    outcome = until_struck(_scenario(set(), calls))
    assert calls == list(SEEDS)
    assert not outcome.passed
