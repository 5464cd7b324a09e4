"""Check template.yaml offline: SAM translation, cfn-lint, statelint and (optionally) sam build.

Run from the repository root::

    python -m tools.check_template [--out build/template.cfn.json] [--sam-build] [--checkov]

cfn-lint >= 1.54 no longer transforms SAM, so the template is translated with aws-sam-translator first
(no IAM calls) and both the SAM source and the CloudFormation result are linted. Nothing checks a
DefinitionUri ASL file except statelint. `sam build` says "Build Succeeded" even for a missing CodeUri,
so --sam-build inspects the artifacts it produced. --checkov scans the translated template (what CloudFormation
deploys) with checkov; every check it skips is skipped in template.yaml with its reason.

Reading and translating the template is localcloud.sam_template's (the local cloud deploys the same
translation); this module only runs the checks on it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import yaml

from localcloud.sam_template import DEFAULT_TEMPLATE, DUMMY_REGION, TemplateError, translate_template

DEFAULT_OUT = "build/template.cfn.json"
# Artifacts `sam build` must produce (relative to .aws-sam/build); checked with --sam-build.
_FUNCTION_ARTIFACTS = {
    name: ["app.py"]
    for name in (
        "SubmitFunction",
        "RecordFunction",
        "StartRunFunction",
        "RunLifecycleFunction",
        "ReconcileFunction",
    )
}
_LAYER_ARTIFACTS = {
    "ContractLayer": [
        "python/sls_contract/__init__.py",
        "python/aws_lambda_powertools/__init__.py",
        "python/pydantic/__init__.py",
        "python/pydantic_core/__init__.py",
    ]
}


class CheckError(Exception):
    """A check failed; the message says what to fix."""


# --- checks -----------------------------------------------------------------------------------------


def _run_cfn_lint(path: Path) -> str:
    """Lint one template file; raise on errors, print warnings and return a summary."""
    from cfnlint.api import lint_file  # heavy: imported only when linting

    matches = lint_file(path, {"regions": [DUMMY_REGION]})
    errors = [m for m in matches if m.rule.id.startswith("E")]
    for match in matches:
        level = "error" if match in errors else "warning" if match.rule.id.startswith("W") else "info"
        print(f"  {level}: {path.name}:{match.linenumber} {match.rule.id} {match.message}")
    if errors:
        raise CheckError(f"cfn-lint found {len(errors)} error(s) in {path}")
    warnings = sum(1 for m in matches if m.rule.id.startswith("W"))
    return f"0 errors, {warnings} warning(s)"


def check_translate(template: Path, out: Path) -> str:
    translated = translate_template(template)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(translated, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return f"{len(translated.get('Resources', {}))} CloudFormation resources -> {out}"


def check_cfn_lint_translated(out: Path) -> str:
    return _run_cfn_lint(out)


def check_cfn_lint_source(template: Path) -> str:
    return _run_cfn_lint(template)


def _statelint_command() -> list[str]:
    beside_python = Path(sys.executable).with_name("statelint")
    if beside_python.exists():
        return [str(beside_python)]
    on_path = shutil.which("statelint")
    if on_path:
        return [on_path]
    raise CheckError("statelint not found: pip install statelint")


def check_statelint(template: Path) -> str:
    asl_files = sorted((template.parent / "statemachine").glob("*.asl.json"))
    if not asl_files:
        return "skipped: no statemachine/*.asl.json"
    command = _statelint_command()
    failed = []
    for asl in asl_files:
        # --ignore=URI: "${SubmitFunctionArn}" placeholders are DefinitionSubstitutions, not URIs yet.
        result = subprocess.run(
            [*command, "--ignore=URI", str(asl)], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            failed.append(asl.name)
            for line in (result.stdout + result.stderr).strip().splitlines():
                print(f"  {asl.name}: {line}")
    if failed:
        raise CheckError(f"statelint rejected {', '.join(failed)}")
    return f"{len(asl_files)} state machine(s) valid"


def _missing_artifacts(build_dir: Path) -> list[str]:
    missing = [
        f"{logical_id}/{rel}"
        for logical_id, paths in {**_FUNCTION_ARTIFACTS, **_LAYER_ARTIFACTS}.items()
        for rel in paths
        if not (build_dir / logical_id / rel).is_file()
    ]
    for layer in _LAYER_ARTIFACTS:
        core = build_dir / layer / "python" / "pydantic_core"
        if not any("aarch64" in so.name for so in core.glob("*.so")):
            missing.append(f"{layer}/python/pydantic_core/*aarch64*.so (wheels not built for arm64 Lambda)")
    return missing


def check_sam_build(template: Path) -> str:
    sam = os.environ.get("SAM_CLI", "sam")
    if shutil.which(sam) is None:
        raise CheckError(f"sam CLI not found ({sam!r}); set SAM_CLI to its path")
    with tempfile.TemporaryDirectory(prefix="sam-build-") as tmp:
        build_dir = Path(tmp) / "build"
        env = {**os.environ, "AWS_REGION": DUMMY_REGION, "AWS_DEFAULT_REGION": DUMMY_REGION}
        env.setdefault("SAM_CLI_TELEMETRY", "0")
        result = subprocess.run(
            [
                sam,
                "build",
                "--template-file",
                str(template),
                "--build-dir",
                str(build_dir),
                "--cache-dir",
                str(Path(tmp) / "cache"),
                "--region",
                DUMMY_REGION,
            ],
            cwd=tmp,  # sam leaves a .aws-sam/deps directory in its working directory
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            print((result.stdout + result.stderr).rstrip())
            raise CheckError(f"sam build exited {result.returncode}")
        missing = _missing_artifacts(build_dir)
        if missing:
            raise CheckError("sam build said it succeeded but artifacts are missing: " + ", ".join(missing))
    return "artifacts complete (handlers, contract package, arm64 wheels)"


def check_checkov(out: Path) -> str:
    """checkov on the translated template: no failed check (skips are declared, with a reason, in the
    template's Metadata); nothing is downloaded and no update check leaves the machine."""
    checkov = os.environ.get("CHECKOV", "checkov")
    if shutil.which(checkov) is None:
        raise CheckError(f"checkov not found ({checkov!r}); set CHECKOV to its path")
    env = {
        **os.environ,
        "BC_SKIP_MAPPING": "TRUE",  # no download of Prisma Cloud's guideline mapping
        "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",  # no PyPI version check
    }
    command = [checkov, "--file", str(out), "--framework", "cloudformation", "--skip-download"]
    result = subprocess.run(
        [*command, "--quiet", "--compact", "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        raise CheckError(f"checkov exited {result.returncode}: {result.stderr.strip()[-2000:]}") from exc
    summary = report["summary"]
    failed = [
        f"{check['check_id']} {check['resource']} ({check['check_name']})"
        for check in report["results"]["failed_checks"]
    ]
    if failed or summary["parsing_errors"]:
        raise CheckError(
            f"{len(failed)} failed, {summary['parsing_errors']} parsing error(s): fix each, or skip it in "
            "the resource's Metadata (checkov: skip: - id, comment) with the reason:\n  "
            + "\n  ".join(failed)
        )
    return f"{summary['passed']} passed, 0 failed, {summary['skipped']} skipped with a reason"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.check_template", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--template", default=DEFAULT_TEMPLATE, help="SAM template (default: %(default)s)")
    parser.add_argument(
        "--out", default=DEFAULT_OUT, help="translated CloudFormation JSON (default: %(default)s)"
    )
    parser.add_argument("--sam-build", action="store_true", help="also run sam build and check its artifacts")
    parser.add_argument(
        "--checkov", action="store_true", help="also scan the translated template with checkov"
    )
    args = parser.parse_args(argv)

    template = Path(args.template).resolve()
    out = Path(args.out)
    steps: list[tuple[str, Callable[[], str]]] = [
        ("translate (aws-sam-translator)", lambda: check_translate(template, out)),
        ("cfn-lint translated template", lambda: check_cfn_lint_translated(out)),
        ("cfn-lint template.yaml", lambda: check_cfn_lint_source(template)),
        ("statelint statemachine/*.asl.json", lambda: check_statelint(template)),
    ]
    if args.checkov:
        steps.append(("checkov translated template", lambda: check_checkov(out)))
    if args.sam_build:
        steps.append(("sam build + artifacts", lambda: check_sam_build(template)))

    failures = 0
    for name, step in steps:
        try:
            detail = step()
        except (CheckError, TemplateError, OSError, yaml.YAMLError) as exc:
            failures += 1
            print(f"FAIL {name}: {exc}")
            if name.startswith("translate"):
                break  # every later step needs the translated template
        else:
            print(f"PASS {name}: {detail}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
