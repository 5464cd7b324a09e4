"""The examples README.md and docs/further.md mark `<!-- run-locally -->` run as written on the local cloud.

Each document's marked blocks run in order, with bash (-euo pipefail), in a workflow directory of the
user's, in the shell `make local-cloud` sets up (the venv first on PATH, the local cloud's endpoint and
dummy credentials exported). Placeholders are the documents' own: RUN_ID is a finished run (made the
way "Run your own workflow locally" says), JOB and RULE its one rule. Before each block that runs
`snakemake` runs still going are awaited and the bucket is emptied, so every example does its work.
What only AWS can do (sam deploy, pip install from PyPI) is not marked.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from localcloud.cli import snakemake_command
from localcloud.cloud import DATA_BUCKET
from sls_contract.run_record import RUN_TERMINAL, RunRecord, RunStatus
from tests.e2e.conftest import Driver, _cloud
from tests.support.doc_examples import Example, marked_examples
from tests.support.polling import wait_until

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
BUCKET = "my-bucket"  # the documents' storage prefixes are under s3://my-bucket/
RULE = "hello"
GREETING = "hello from job 42"  # what the job prints; its source text differs, so only a run makes it
SNAKEFILE = f"""
rule all:
    input: "hello.txt"

rule {RULE}:
    output: "hello.txt"
    shell: "echo hello from job $((6 * 7)) | tee {{output}}"
"""
# The workflow's own profile (Snakemake reads profiles/default/ by itself): status rounds of 1 s instead
# of 10, as `make local-cloud` prints them, without changing the documents' command lines.
WORKFLOW_PROFILE = "seconds-between-status-checks: 1\n"

# What each document's examples must show, besides exit code 0 and every run they start SUCCEEDED.
EXPECTED = {
    "README.md": {
        "outputs": ["run1/hello.txt", "runs/nightly/hello.txt"],  # "Use the plugin", the run request
        "runs": ["nightly-2026-11-22"],
        "printed": [GREETING, "nothing to cancel", "requested run nightly-2026-11-22"],
    },
    "docs/further.md": {
        "outputs": ["run1/hello.txt", "run2/hello.txt"],  # the last snakemake example, the run request
        "triggers": ["snakemake --aws-basic-batch-sls-coordinator"],
        "printed": [GREETING, "nothing to cancel", "requested run "],
    },
}


@pytest.fixture(scope="module")
def docs_driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Driver]:
    workflow = tmp_path_factory.mktemp("my-workflow")
    (workflow / "Snakefile").write_text(SNAKEFILE)
    (workflow / "profiles" / "default").mkdir(parents=True)
    (workflow / "profiles" / "default" / "config.yaml").write_text(WORKFLOW_PROFILE)
    # The coordinator's "bundled" workflow: its image holds the workflow directory. 4 vCPUs: two
    # coordinators (the documents start runs that overlap) and their jobs fit at once, as `--vcpus 4`.
    for driver in _cloud(workflow, max_vcpus=4, batch={"image_dirs": {"*": workflow}}):
        driver.cloud.client("s3").create_bucket(Bucket=BUCKET)
        yield driver


@pytest.fixture(scope="module")
def shell_env(docs_driver: Driver) -> dict[str, str]:
    """A new shell after the lines `make local-cloud` prints: venv activated, endpoint exported."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SNAKEMAKE_", "VIRTUAL_ENV"))}
    venv_bin = str(Path(sys.executable).parent)
    return {
        **clean,
        **docs_driver.cloud.client_env(),
        "PATH": venv_bin + os.pathsep + clean.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
    }


@pytest.fixture(scope="module")
def first_run(docs_driver: Driver, shell_env: dict[str, str]) -> str:
    """RUN_ID: a run made with the command `make local-cloud` prints (README's step 2)."""
    command = snakemake_command(docs_driver.cloud, f"s3://{DATA_BUCKET}/my-run")
    done = _bash(command, docs_driver.workflows, shell_env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return _finished_runs(docs_driver, set())[0].run_id


def _bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _finished_runs(driver: Driver, known: set[str], announced: Sequence[str] = ()) -> list[RunRecord]:
    """Runs not in `known`, once every one of them, and every run a command announced, has finished."""

    def new_runs() -> list[RunRecord]:
        return [run for run in driver.run_store().recent() if run.run_id not in known]

    def settled() -> bool:
        runs = new_runs()
        return set(announced) <= {r.run_id for r in runs} and all(r.status in RUN_TERMINAL for r in runs)

    wait_until(settled, 240, f"the runs to finish ({', '.join(announced)} among them)", interval=0.5)
    return new_runs()


def _empty_bucket(driver: Driver) -> None:
    s3 = driver.cloud.client("s3")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=BUCKET, Key=item["Key"])


def _announced(printed: list[str]) -> list[str]:
    """Run ids that `aws-basic-batch-sls start` and coordinator mode printed: their records come later."""
    return re.findall(r"(?:requested|started) run (\S+)", "".join(printed))


def _script(example: Example, run_id: str) -> str:
    return re.sub(r"\b(JOB|RULE)\b", RULE, re.sub(r"\bRUN_ID\b", run_id, example.text))


@pytest.mark.parametrize("doc", sorted(EXPECTED))
def test_marked_examples_run_as_written(doc, docs_driver, shell_env, first_run):
    path = ROOT / doc
    examples = marked_examples(path.read_text())
    known = {run.run_id for run in docs_driver.run_store().recent()}
    workflow = docs_driver.workflows
    printed = []
    for example in examples:
        if example.file:
            (workflow / example.file).parent.mkdir(parents=True, exist_ok=True)
            (workflow / example.file).write_text(example.text + "\n")
            continue
        if "snakemake " in example.text:
            _finished_runs(docs_driver, known, _announced(printed))
            _empty_bucket(docs_driver)
        done = _bash(_script(example, first_run), workflow, shell_env)
        assert done.returncode == 0, (
            f"{example.where(path)} failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}"
        )
        printed.append(done.stdout + done.stderr)

    runs = _finished_runs(docs_driver, known, _announced(printed))
    assert runs, f"{doc}'s examples started no run"
    assert [(r.run_id, r.status, r.cause) for r in runs if r.status != RunStatus.SUCCEEDED] == []
    expected = EXPECTED[doc]
    assert set(expected.get("runs", [])) <= {r.run_id for r in runs}
    assert set(expected.get("triggers", [])) <= {r.trigger for r in runs}
    for text in expected["printed"]:
        assert text in "".join(printed), f"{doc}'s examples never printed {text!r}"
    s3 = docs_driver.cloud.client("s3")
    for key in expected["outputs"]:
        assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode().strip() == GREETING, key
