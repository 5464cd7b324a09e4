"""The benchmark's per-job detection figures (bench/harness.py RunResult), on hand-made timings."""

from __future__ import annotations

from bench.harness import RunResult


def _run() -> RunResult:
    # job i ends in Batch at 100 + i, is recorded 2 s later (job 0: 50 s later), noticed 1 s after that
    jobs = [f"j{i}" for i in range(200)]
    terminal = {j: 100.0 + i for i, j in enumerate(jobs)}
    recorded = {j: t + (50.0 if j == "j0" else 2.0) for j, t in terminal.items()}
    noticed = {j: [t + 1.0, True] for j, t in recorded.items()}
    return RunResult(
        plugin="aws-basic-batch-sls", n=200, simulated=True, returncode=0, wall_seconds=1.0,
        probe={"noticed": noticed, "rounds": []}, terminal_at=terminal, recorded_at=recorded, created_at={},
    )  # fmt: skip


def test_the_first_to_end_are_the_earliest_terminal_jobs() -> None:
    run = _run()
    assert run.first_to_end(0.01) == {"j0", "j1"}
    assert run.first_to_end(0.001) == {"j0"}  # at least one


def test_detection_and_its_legs_for_some_jobs_only() -> None:
    run = _run()
    # GIVEN the first two jobs to end WHEN their detection is split THEN only theirs are counted
    assert run.detection_seconds({"j0", "j1"}) == [3.0, 51.0]
    assert run.detection_split({"j0", "j1"}) == ([2.0, 50.0], [1.0, 1.0])
    # AND without a selection every job is
    assert len(run.detection_seconds()) == 200 and max(run.detection_split()[0]) == 50.0


def test_the_detection_line_says_whether_snakemakes_post_processing_kept_pace() -> None:
    from bench import scale
    from bench.postprocess import pace

    # GIVEN 200 jobs ending one a second (the hand-made run) WHEN Snakemake post-processed them at
    # 2 a second (keeps pace) or at 0.5 a second (falls behind)
    run = _run()
    row = {"end_rate": scale.rate(sorted(run.terminal_at.values()))}
    assert round(row["end_rate"], 3) == 1.0
    keeps = pace({**row, "postprocess": {"jobs": 200, "seconds": 100.0, "calls": {}}})
    behind = pace({**row, "postprocess": {"jobs": 200, "seconds": 400.0, "calls": {}}})
    # THEN the line gives both rates and its verdict
    assert "ended in Batch at 1.0 a second" in keeps and "post-processed 2.0 jobs a second" in keeps
    assert "keeping pace" in keeps
    assert "post-processed 0.5 jobs a second" in behind and "each job waited for those before it" in behind
    assert pace({**row, "postprocess": None}) == ""
