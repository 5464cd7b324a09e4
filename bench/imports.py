"""Each handler's init against a bare handler that imports boto3 and creates the same clients.

Init is what Lambda's init phase runs: the handler module and everything it does at module level
(Powertools objects, settings, boto3 clients). Its bare counterpart is a generated module that
imports boto3 and creates the same clients as that handler (same services, same botocore Config
options, found by running the handler's import once with `create_client` recorded) and does nothing
else. Both are loaded the same way (a fresh Python process per sample, the clock started before the
first import, the module loaded from its file as the Lambda worker loads it), alternating handler and
bare samples so that both share the machine's noise. The figure is the median of the per-pair ratios
(each handler sample over the bare sample taken right after it): on a busy machine that is steadier
than the ratio of the two medians, as each pair saw the same load.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from localcloud.cloud import LocalCloud
from localcloud.deploy import REPO_ROOT

LAYER_DIR = REPO_ROOT / "layers" / "contract"
SAMPLES = 11
BARE_PREFIX = "bare: "  # key of the bare counterpart's median in RunResult.imports
RATIO_PREFIX = "ratio: "  # key of the median of the per-pair ratios
CLIENTS_PREFIX = "bare clients: "  # key of the clients it creates (a list of [service, config options])

# Loads a handler module from its file, as localcloud.lambda_worker.load_handler does, with nothing
# imported before the clock starts but what Python's startup imports.
_LOAD = (
    "import time; t = time.perf_counter(); import importlib.util, sys; from pathlib import Path; "
    "code_dir, module_name, function_name = Path(sys.argv[1]), *sys.argv[2].rsplit('.', 1); "
    "sys.path[:0] = [str(code_dir), *sys.argv[3:]]; "
    "spec = importlib.util.spec_from_file_location(module_name, code_dir / (module_name + '.py')); "
    "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module); "
    "getattr(module, function_name); print(time.perf_counter() - t)"
)

# The handler's import with botocore's create_client recorded: which clients, with which Config.
_DISCOVER = (
    "import json, sys, importlib.util; from pathlib import Path; import botocore.session; "
    "seen = []; original = botocore.session.Session.create_client\n"
    "def create_client(self, service_name, *args, **kwargs):\n"
    "    config = kwargs.get('config')\n"
    "    seen.append([service_name, dict(config._user_provided_options) if config else {}])\n"
    "    return original(self, service_name, *args, **kwargs)\n"
    "botocore.session.Session.create_client = create_client\n"
    "code_dir, module_name = Path(sys.argv[1]), sys.argv[2].rsplit('.', 1)[0]; "
    "sys.path[:0] = [str(code_dir), *sys.argv[3:]]; "
    "spec = importlib.util.spec_from_file_location(module_name, code_dir / (module_name + '.py')); "
    "spec.loader.exec_module(importlib.util.module_from_spec(spec)); print(json.dumps(seen))"
)


def bare_module(clients: list[list[Any]]) -> str:
    """The bare handler: boto3 and the same clients, nothing else."""
    lines = ["import boto3", "from botocore.config import Config", "", "clients = ["]
    for service, options in clients:
        config = f", config=Config(**{options!r})" if options else ""
        lines.append(f"    boto3.client({service!r}{config}),")
    lines += ["]", "", "", "def lambda_handler(event, context):", "    return None", ""]
    return "\n".join(lines)


def ratio_verdicts(
    handler: dict[str, float], bare: dict[str, float], limit: float, ratios: dict[str, float] | None = None
) -> dict[str, tuple[float, bool]]:
    """Per handler: its init ÷ its bare counterpart's (the median of the per-pair ratios when measured,
    else the ratio of the medians), and whether that is within `limit`."""
    out = {}
    for name, seconds in sorted(handler.items()):
        base = bare.get(name)
        if base:
            ratio = (ratios or {}).get(name, seconds / base)
            out[name] = (ratio, ratio <= limit)
    return out


def _run(args: list[str], env: dict[str, str]) -> str:
    return subprocess.run(
        [sys.executable, "-c", *args], env=env, cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.strip().splitlines()[-1]  # fmt: skip


def measure(functions: dict[str, tuple[Path, str, dict[str, str]]], samples: int = SAMPLES) -> dict[str, Any]:
    """functions: handler folder -> (code dir, handler, environment). Returns RunResult.imports:
    folder -> handler init median (s), "bare: folder" -> bare median (s), "bare clients: folder"."""
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-bare-") as tmp:
        for name, (code_dir, handler, env) in sorted(functions.items()):
            layer = [str(LAYER_DIR)]
            clients = json.loads(_run([_DISCOVER, str(code_dir), handler, *layer], env))
            bare_dir = Path(tmp) / name
            bare_dir.mkdir()
            (bare_dir / "app.py").write_text(bare_module(clients))
            mine, theirs = [], []
            for _ in range(samples):  # alternating: both see the same noise
                mine.append(float(_run([_LOAD, str(code_dir), handler, *layer], env)))
                theirs.append(float(_run([_LOAD, str(bare_dir), "app.lambda_handler"], env)))
            results[name] = statistics.median(mine)
            results[BARE_PREFIX + name] = statistics.median(theirs)
            results[RATIO_PREFIX + name] = statistics.median(m / t for m, t in zip(mine, theirs, strict=True))
            results[CLIENTS_PREFIX + name] = clients
    return results


def handler_import_seconds(cloud: LocalCloud, samples: int = SAMPLES) -> dict[str, Any]:
    """Every deployed function of the local cloud, with the environment Lambda gives it."""
    lam = cloud.client("lambda")
    functions = {}
    for name, code_dir in sorted(cloud.deployment.function_code.items()):
        config = lam.get_function_configuration(FunctionName=name)
        env = {
            **os.environ,
            **cloud.client_env(),
            **{k: str(v) for k, v in config.get("Environment", {}).get("Variables", {}).items()},
            "PYTHONPATH": str(REPO_ROOT),
        }
        functions[code_dir.name] = (code_dir, config["Handler"], env)
    return measure(functions, samples)


def main() -> None:
    """`python -m bench.imports`: the ratios without a local cloud (placeholder environment)."""
    env = {
        **os.environ,
        "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "JOBS_TABLE_NAME": "jobs", "POWERTOOLS_SERVICE_NAME": "bench",
        "POWERTOOLS_METRICS_NAMESPACE": "bench", "POWERTOOLS_METRICS_DISABLED": "false",
        "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:bench",
        "PYTHONPATH": str(REPO_ROOT),
    }  # fmt: skip
    functions = {
        d.name: (d, "app.lambda_handler", env)
        for d in sorted((REPO_ROOT / "functions").iterdir())
        if (d / "app.py").exists()
    }
    results = measure(functions, int(sys.argv[1]) if len(sys.argv) > 1 else SAMPLES)
    handler = {
        k: v for k, v in results.items() if not k.startswith((BARE_PREFIX, CLIENTS_PREFIX, RATIO_PREFIX))
    }
    bare = {k[len(BARE_PREFIX) :]: v for k, v in results.items() if k.startswith(BARE_PREFIX)}
    ratios = {k[len(RATIO_PREFIX) :]: v for k, v in results.items() if k.startswith(RATIO_PREFIX)}
    for name, (ratio, ok) in ratio_verdicts(handler, bare, 1.3, ratios).items():
        print(
            f"{name}: init {handler[name] * 1000:.0f} ms, bare {bare[name] * 1000:.0f} ms, "
            f"{ratio:.2f}x {'PASS' if ok else 'FAIL'} ({results[CLIENTS_PREFIX + name]})"
        )


if __name__ == "__main__":
    main()
