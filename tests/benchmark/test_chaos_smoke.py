"""The chaos suite's small version (30 jobs a scenario): every scenario runs and keeps its promise."""

from __future__ import annotations

import pytest

from bench.chaos.__main__ import SCENARIOS, SMOKE_JOBS, main, run
from bench.chaos.outcome import render, save

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]


def test_every_chaos_scenario_passes_at_smoke_size(tmp_path, capsys) -> None:
    outcomes = run(list(SCENARIOS), SMOKE_JOBS, tmp_path)
    with capsys.disabled():
        print("\n" + render(outcomes, SMOKE_JOBS, smoke=True))
    assert [o.name for o in outcomes if not o.passed] == []
    assert len(outcomes) == len(SCENARIOS) == 8
    # AND the report can be written again from the raw outcomes alone
    raw = tmp_path / "outcomes.json"
    save(raw, SMOKE_JOBS, outcomes)
    assert main(["--render", str(raw), "--out", str(tmp_path)]) == 0
    assert "## Targets: 8 of 8 PASS" in (tmp_path / "RELIABILITY.md").read_text()
