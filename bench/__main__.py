"""`python -m bench [--smoke]`: both plugins, the same workloads, one local cloud run; writes the report.

Simulated phase: one local cloud whose Batch simulates execution (every job RUNNING for a fixed time on
elastic capacity, its Snakemake output put in the local S3 on success), fan-outs of 100 and 1,000 jobs
through each plugin. Scale phase (bench/scale.py): a 10,000-job scatter through this plugin with AWS
Batch array jobs and without, a fresh simulated local cloud for each. Real phase: a second local cloud
whose Batch runs every job's real Snakemake command as a process (vCPUs = this machine's cores), a
fan-out of 200 jobs through each plugin. `--only 1000,10k` runs just those parts.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from localcloud.batch import BatchRuntimeConfig
from localcloud.cloud import LocalCloud

from . import scale
from .harness import HERE, PLUGINS, OutputWriter, RunResult, run_workload
from .imports import handler_import_seconds
from .invocations import invocation_of, started_of
from .report import figures, render_markdown, render_png

# "scale": the N-way scatter with and without array jobs (bench/scale.py), N and seconds per job.
FULL = {"simulated": [(100, 10.0), (1000, 30.0)], "real": 200, "scale": (10_000, 90.0)}
SMOKE = {"simulated": [(20, 3.0)], "real": 4, "scale": (60, 3.0)}


def _cloud(simulated: bool, seconds: float = 1.0) -> LocalCloud:
    config = BatchRuntimeConfig(
        simulate=simulated,
        simulate_seconds=seconds,
        on_simulated_success=OutputWriter(),
        image_dirs={"*": HERE},
    )
    # DynamoDB in a moto process of its own, as it is a service apart on AWS (localcloud/dynamodb_server.py).
    return LocalCloud(batch_config=config, dynamodb_process=True)


def _say(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", flush=True)


def _summary(result: RunResult) -> str:
    return (
        f"{result.plugin} n={result.n} {'simulated' if result.simulated else 'real'}: exit {result.returncode}, "
        f"wall {result.wall_seconds:.1f} s, hand-off {result.handoff_seconds()}, makespan {result.makespan_seconds()}"
    )


def run(plan: dict, workdir: Path) -> list[RunResult]:
    results: list[RunResult] = []
    for n, seconds in plan["simulated"]:
        # A fresh cloud per size: moto's SQS and DynamoDB slow down as they fill up.
        _say(f"local cloud up: simulated execution, {seconds:g} s per job, elastic capacity")
        with _cloud(True, seconds) as cloud:
            for plugin in PLUGINS:
                _say(f"{plugin}: {n} simulated jobs")
                result = run_workload(cloud, plugin, n, workdir, simulated=True)
                _say(_summary(result))
                results.append(result)
    if plan.get("scale"):
        scale_n, scale_seconds = plan["scale"]
        results += scale.run(scale_n, scale_seconds, workdir, _cloud, _say)
    if not plan.get("real"):
        return results
    _say("local cloud up: real job processes")
    with _cloud(False) as cloud:
        for plugin in PLUGINS:
            _say(f"{plugin}: {plan['real']} real jobs")
            result = run_workload(cloud, plugin, plan["real"], workdir, simulated=False)
            _say(_summary(result))
            results.append(result)
        _say("handler cold imports, one fresh process at a time")
        imports = handler_import_seconds(cloud)
    for result in results:
        result.imports = imports
    return results


def _only(plan: dict, parts: set[str]) -> dict:
    """The plan with only these parts: simulated sizes by number, "real", "10k" (or "scale")."""
    known = {str(n) for n, _ in plan["simulated"]} | {"real", "10k", "scale"}
    if parts - known:
        raise SystemExit(f"--only: unknown part(s) {sorted(parts - known)}; known: {sorted(known)}")
    return {
        "simulated": [(n, s) for n, s in plan["simulated"] if str(n) in parts],
        "real": plan["real"] if "real" in parts else 0,
        "scale": plan["scale"] if parts & {"10k", "scale"} else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="a small version: prints figures only")
    parser.add_argument("--out", type=Path, default=HERE, help="where RESULTS.md and results.png go")
    parser.add_argument(
        "--render", type=Path, nargs="+", metavar="RESULTS_JSON",
        help="write the report from a previous run's results.json instead of running anything; several "
        "files (e.g. a `--only 10k` run and a `--only 100,1000,real` run) make one report that names each",
    )  # fmt: skip
    parser.add_argument(
        "--only", metavar="PARTS",
        help="run only these parts, comma-separated: simulated sizes (100,1000), real, 10k (the "
        "scale runs); prints the report (RESULTS.md is written only with --out)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    plan = SMOKE if args.smoke else FULL
    if args.only:
        plan = _only(plan, {part.strip() for part in args.only.split(",")})
    invocations = None
    if args.render:
        batches = [[RunResult(**r) for r in json.loads(path.read_text())] for path in args.render]
        results = [r for batch in batches for r in batch]
        invocations = [invocation_of(batch) for batch in sorted(batches, key=started_of)]
    else:
        workdir = Path(tempfile.mkdtemp(prefix="bench-"))
        _say(f"work directory {workdir}")
        results = run(plan, workdir)
        (workdir / "results.json").write_text(json.dumps([asdict(r) for r in results]))
        _say(f"raw results in {workdir / 'results.json'} (re-render: python -m bench --render FILE)")
    table = figures(results, plan)
    markdown = render_markdown(table, results, plan, smoke=args.smoke, invocations=invocations)
    print(markdown)
    if not args.smoke and (not args.only or args.out != HERE):
        (args.out / "RESULTS.md").write_text(markdown)
        render_png(table, args.out / "results.png")
        _say(f"wrote {args.out / 'RESULTS.md'} and {args.out / 'results.png'}")
    failed_runs = [r for r in results if r.returncode != 0]
    for result in failed_runs:
        _say(f"run failed: {_summary(result)}\n{result.output_tail}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
