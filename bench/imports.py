"""Cold import time of each deployed handler module: a fresh Python process per sample, one at a time.

The process gets the function's own environment from the local cloud's Lambda API (as the worker
does) and times `load_handler` — the module and everything
it does at module level (Powertools objects, boto3 clients). Median of a few samples.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

from localcloud.cloud import LocalCloud
from localcloud.deploy import REPO_ROOT

_PROBE = (
    "import json, sys, time; from pathlib import Path; t = time.perf_counter(); "
    "from localcloud.lambda_worker import load_handler; "
    "load_handler(Path(sys.argv[1]), sys.argv[2]); print(json.dumps(time.perf_counter() - t))"
)


_BASELINE = (
    "import sys, time, json; t = time.perf_counter(); import boto3; a = time.perf_counter() - t; "
    "boto3.client('dynamodb'); boto3.client('batch'); print(json.dumps([a, time.perf_counter() - t]))"
)
BASELINE_PREFIX = "baseline: "


def baseline_seconds(cloud: LocalCloud, samples: int = 3) -> dict[str, float]:
    """What no handler can avoid here: `import boto3`, and that plus a DynamoDB and a Batch client."""
    env = {**os.environ, **cloud.client_env()}
    runs = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", _BASELINE], env=env, capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(samples)
    ]
    return {
        f"{BASELINE_PREFIX}import boto3": statistics.median(r[0] for r in runs),
        f"{BASELINE_PREFIX}import boto3 + DynamoDB and Batch clients": statistics.median(r[1] for r in runs),
    }


def handler_import_seconds(cloud: LocalCloud, samples: int = 3) -> dict[str, float]:
    lam = cloud.client("lambda")
    results: dict[str, float] = {}
    for name, code_dir in sorted(cloud.deployment.function_code.items()):
        config = lam.get_function_configuration(FunctionName=name)
        env = {
            **os.environ,
            **cloud.client_env(),
            **{k: str(v) for k, v in config.get("Environment", {}).get("Variables", {}).items()},
            "PYTHONPATH": str(REPO_ROOT),
        }
        times = []
        for _ in range(samples):
            out = subprocess.run(
                [sys.executable, "-c", _PROBE, str(code_dir), config["Handler"]],
                env=env, cwd=REPO_ROOT, capture_output=True, text=True, check=True,
            )  # fmt: skip
            times.append(json.loads(out.stdout.strip().splitlines()[-1]))
        results[code_dir.name] = statistics.median(times)
    return {**results, **baseline_seconds(cloud, samples)}
