"""The chaos suite's small version (30 jobs a scenario): every scenario runs and keeps its promise."""

from __future__ import annotations

import pytest

from bench.chaos.__main__ import SCENARIOS, SMOKE_JOBS, run
from bench.chaos.outcome import render

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]


def test_every_chaos_scenario_passes_at_smoke_size(tmp_path, capsys) -> None:
    outcomes = run(list(SCENARIOS), SMOKE_JOBS, tmp_path)
    with capsys.disabled():
        print("\n" + render(outcomes, SMOKE_JOBS, smoke=True))
    assert [o.name for o in outcomes if not o.passed] == []
    assert len(outcomes) == len(SCENARIOS) == 7
