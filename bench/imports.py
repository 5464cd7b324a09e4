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

A third module per handler, its libraries twin, is the bare one plus every third-party module the
handler's import loaded (pydantic, pydantic-settings, Powertools' modules: found by the same discovery
run, imported in the order the handler loaded them). It splits the handler's init into what the
libraries on the design card cost and what this project's own code adds (its models, settings,
module-level objects).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from localcloud.cloud import LocalCloud
from localcloud.deploy import REPO_ROOT

from .verdicts import line

LAYER_DIR = REPO_ROOT / "layers" / "contract"
SAMPLES = 11
INIT_RATIO_LIMIT = 1.3  # each handler's init ÷ its bare boto3 counterpart's
BARE_PREFIX = "bare: "  # key of the bare counterpart's median in RunResult.imports
RATIO_PREFIX = "ratio: "  # key of the median of the per-pair ratios
CLIENTS_PREFIX = "bare clients: "  # key of the clients it creates (a list of [service, config options])
LIBRARIES_PREFIX = "libraries: "  # key of the libraries twin's median of per-pair ratios to the bare one
# Top-level packages the bare handler has too (boto3 and what it imports), and this project's own code.
_BARE_PACKAGES = {
    "boto3",
    "botocore",
    "s3transfer",
    "urllib3",
    "jmespath",
    "dateutil",
    "six",
    "certifi",
    "idna",
}
_OWN_PACKAGES = {"sls_contract", "app"}

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
    "before = set(sys.modules)\n"
    "code_dir, module_name = Path(sys.argv[1]), sys.argv[2].rsplit('.', 1)[0]; "
    "sys.path[:0] = [str(code_dir), *sys.argv[3:]]; "
    "spec = importlib.util.spec_from_file_location(module_name, code_dir / (module_name + '.py')); "
    "spec.loader.exec_module(importlib.util.module_from_spec(spec)); "
    "print(json.dumps({'clients': seen, 'modules': [m for m in sys.modules if m not in before]}))"
)


def third_party(modules: list[str]) -> list[str]:
    """The modules a handler's import loaded that are neither the standard library, nor what the bare
    handler loads too, nor this project's own code: in the order they were loaded."""
    return [
        name
        for name in modules
        if (top := name.partition(".")[0]) not in sys.stdlib_module_names
        and top not in _BARE_PACKAGES | _OWN_PACKAGES
        and not top.startswith("_")
    ]


def bare_module(clients: list[list[Any]], libraries: Sequence[str] = ()) -> str:
    """The bare handler: boto3 and the same clients, nothing else; with `libraries`, its libraries twin:
    those modules imported too, in that order, before the clients."""
    lines = ["import importlib", "import boto3", "from botocore.config import Config", ""]
    lines += [f"importlib.import_module({name!r})" for name in libraries]
    lines += ["", "clients = ["]
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
            found = json.loads(_run([_DISCOVER, str(code_dir), handler, *layer], env))
            twins = {}
            for twin, libraries in (("bare", []), ("libraries", third_party(found["modules"]))):
                twins[twin] = Path(tmp) / name / twin
                twins[twin].mkdir(parents=True)
                (twins[twin] / "app.py").write_text(bare_module(found["clients"], libraries))
            mine, theirs, libs = [], [], []
            for _ in range(samples):  # alternating: all three see the same noise
                mine.append(float(_run([_LOAD, str(code_dir), handler, *layer], env)))
                theirs.append(float(_run([_LOAD, str(twins["bare"]), "app.lambda_handler"], env)))
                libs.append(float(_run([_LOAD, str(twins["libraries"]), "app.lambda_handler"], env)))
            results[name] = statistics.median(mine)
            results[BARE_PREFIX + name] = statistics.median(theirs)
            results[RATIO_PREFIX + name] = statistics.median(m / t for m, t in zip(mine, theirs, strict=True))
            results[LIBRARIES_PREFIX + name] = statistics.median(
                lib / t for lib, t in zip(libs, theirs, strict=True)
            )
            results[CLIENTS_PREFIX + name] = found["clients"]
    return results


def init_ratio_targets(table: dict[str, Any]) -> list[str]:
    handler, bare = table.get("imports", {}), table.get("import_bare", {})
    libraries = table.get("import_libraries", {})
    verdicts = ratio_verdicts(handler, bare, INIT_RATIO_LIMIT, table.get("import_ratio"))
    lines = []
    for kind, (ratio, ok) in verdicts.items():
        clients = ", ".join(
            service + (" (own Config)" if options else "")
            for service, options in table.get("import_clients", {}).get(kind, [])
        )
        split = (
            f"; boto3, the same clients and the handler's third-party libraries alone: "
            f"{libraries[kind]:.2f}x, so the project's own code adds {ratio - libraries[kind]:+.2f}x"
            if kind in libraries
            else ""
        )
        lines.append(
            line(f"{kind} handler init ÷ a bare handler with boto3 and the same clients (target ≤ "
                 f"{INIT_RATIO_LIMIT}x)", ratio, ok,
                 f"x (median of per-pair ratios; medians {handler[kind] * 1000:.0f} ms vs "
                 f"{bare[kind] * 1000:.0f} ms, bare: boto3 + {clients}{split})")
        )  # fmt: skip
    if not verdicts and handler:  # a results.json from before the bare counterparts
        lines.append("- **FAIL** handler init ratios: measured n/a (no bare counterparts in these results)")
    elif not handler and table.get("real"):  # measured after every real run: never silently left out
        lines.append(
            "- **FAIL** handler init ratios: measured n/a (no handler init figures in these results)"
        )
    return lines


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
        k: v
        for k, v in results.items()
        if not k.startswith((BARE_PREFIX, CLIENTS_PREFIX, RATIO_PREFIX, LIBRARIES_PREFIX))
    }
    bare = {k[len(BARE_PREFIX) :]: v for k, v in results.items() if k.startswith(BARE_PREFIX)}
    ratios = {k[len(RATIO_PREFIX) :]: v for k, v in results.items() if k.startswith(RATIO_PREFIX)}
    for name, (ratio, ok) in ratio_verdicts(handler, bare, 1.3, ratios).items():
        print(
            f"{name}: init {handler[name] * 1000:.0f} ms, bare {bare[name] * 1000:.0f} ms, "
            f"{ratio:.2f}x {'PASS' if ok else 'FAIL'}; its libraries alone "
            f"{results[LIBRARIES_PREFIX + name]:.2f}x ({results[CLIENTS_PREFIX + name]})"
        )


if __name__ == "__main__":
    main()
