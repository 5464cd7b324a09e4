"""The benchmark's small version, so the harness keeps working: figures printed, not judged."""

from __future__ import annotations

import json
import re
from dataclasses import asdict

import pytest

from bench.__main__ import SMOKE, main, run
from bench.report import OURS, figures, render_markdown
from bench.scale import is_scale

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


def test_bench_smoke_produces_every_figure(tmp_path, capsys) -> None:
    # GIVEN both plugins and the smallest workloads WHEN the benchmark runs them
    results = run(SMOKE, tmp_path)
    table = figures(results, SMOKE)
    with capsys.disabled():
        print("\n" + render_markdown(table, results, SMOKE, smoke=True))
    # THEN every run finished and produced a figure for each metric (values are not asserted)
    assert [r.returncode for r in results] == [0] * len(results)
    for row in [*table["simulated"].values(), *table["real"].values()]:
        for metric in ("detect_median", "detect_p95", "handoff", "makespan"):
            assert row[metric] is not None, metric
        assert row["status"]["calls"] is not None
    # AND each real run knows how long its jobs ran in Batch (RUNNING -> terminal)
    assert all(row["job_median"] > 0 for row in table["real"].values())
    # AND this plugin's detection is split into its two legs for every run
    ours = [
        row for (plugin, _), row in [*table["simulated"].items(), *table["real"].items()] if plugin == OURS
    ]
    assert ours and all(row["split"]["to_record"][0] is not None for row in ours)
    # AND Snakemake's post-processing of the finished jobs was timed for every run, with its S3 checks
    for row in [*table["simulated"].values(), *table["real"].values()]:
        done = row["postprocess"]
        assert done["jobs"] >= row["noticed"] and done["seconds"] > 0
        assert any(op.startswith("s3.") for op in done["calls"]), done
    # AND the scatter went to Batch as one array job (one SubmitJob) with arrays, one per job without,
    # every job finished and accepted by Batch, and its figures are in the scale section
    scale = table["scale"]
    arrays, per_job = scale["arrays"], scale["per_job"]
    assert (arrays["submit_jobs"], per_job["submit_jobs"]) == (1, SMOKE["scale"][0])
    assert arrays["noticed"] == arrays["in_batch"] == per_job["noticed"] == per_job["in_batch"] == scale["n"]
    assert arrays["batch_write_items"] > 0 and arrays["batch_handoff"] is not None
    # (and the detection of the first 1% to end, which tells a start backlog from an end one)
    assert all(side["early"][0] is not None and side["early"][1] is not None for side in (arrays, per_job))
    assert set(table["handlers"]) >= {"submit_cpu_per_job", "record_cpu_per_job"}
    assert {"submit_job", "record_state"} <= set(table["imports"]) <= set(table["import_bare"])
    # AND the cost per 1,000 jobs was counted (DynamoDB units included) and is in the printed targets
    assert table["cost"] and table["cost"][0]["has_dynamodb"] and table["cost"][0]["total"] > 0

    # AND the report can be written again from the raw results alone
    raw = tmp_path / "results.json"
    raw.write_text(json.dumps([asdict(r) for r in results]))
    assert main(["--render", str(raw), "--out", str(tmp_path)]) == 0
    text = (tmp_path / "RESULTS.md").read_text()
    assert "## Targets" in text and "(`python -m bench`), first run started " in text
    assert (tmp_path / "results.png").stat().st_size > 0
    # AND from two invocations' results (the scatter apart), a report that names both invocations
    scale_raw, rest_raw = tmp_path / "scale.json", tmp_path / "rest.json"
    scale_raw.write_text(json.dumps([asdict(r) for r in results if is_scale(r)]))
    rest_raw.write_text(json.dumps([asdict(r) for r in results if not is_scale(r)]))
    split = tmp_path / "split"
    split.mkdir()
    assert main(["--render", str(rest_raw), str(scale_raw), "--out", str(split)]) == 0
    small = SMOKE["simulated"][0][0]
    report = (split / "RESULTS.md").read_text()
    assert (
        "2 invocations of the benchmark on the same machine (together the parts of `make bench`): "
        f"`python -m bench --only {small},real` (first run started "
    ) in report
    assert re.search(r"UTC\), then `python -m bench --only 10k` \(first run started \d{4}-\d\d-\d\d ", report)
    # (with the handler-init targets of the invocation that measured them, though it is not the last)
    assert "handler init ÷ a bare handler with boto3" in report
