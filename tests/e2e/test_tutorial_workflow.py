"""A workflow laid out as Snakemake's tutorial lays one out (tests/e2e/workflows/tutorial/): a config file,
a sample sheet read when the Snakefile is parsed, an included rules file, input functions, a file of the
repository (`workflow.source_path`), params from config and lambdas, threads, message, log and benchmark
files, temp() outputs, a Python `script:` and a `run:` block; in a git repository, as workflows are; its
inputs uploaded to the storage prefix with the command README gives, run from its own folder with
nothing of it in any image."""

import json
import shutil
import subprocess
import sys
from collections import Counter

import pytest

from localcloud.cloud import DATA_BUCKET
from localcloud.deploy import REPO_ROOT
from sls_contract.status import JobStatus

pytestmark = pytest.mark.e2e
SAMPLES = ("A", "B", "C")


def _upload_inputs(driver, run_id: str, workdir: str) -> None:
    upload = subprocess.run(
        [sys.executable, "-m", "localcloud", "upload", "--to", f"s3://{DATA_BUCKET}/{run_id}", "data/"],
        cwd=driver.workflows / workdir,
        env=driver.env({"PYTHONPATH": str(REPO_ROOT)}),
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip  (the environment README's step 2 sets up)
    assert upload.returncode == 0, upload.stdout + upload.stderr


@pytest.fixture(scope="module")
def repositories(driver):
    """tutorial/ as a git repository with every file tracked, tutorial-no-git/ the same files outside one.

    Outside a git repository the files Snakemake ships to jobs are its sources (Snakefile, included
    files, scripts, config files); in one, every tracked file too: the sample sheet and resources/
    reach the jobs that way."""
    if not (driver.workflows / "tutorial-no-git").exists():
        shutil.copytree(driver.workflows / "tutorial", driver.workflows / "tutorial-no-git")
    subprocess.run(["git", "init", "-q"], cwd=driver.workflows / "tutorial", check=True)
    subprocess.run(["git", "add", "-A"], cwd=driver.workflows / "tutorial", check=True)


@pytest.fixture(scope="module")
def tutorial_run(driver, repositories):
    run_id = driver.new_run_id()
    _upload_inputs(driver, run_id, "tutorial")
    run = driver.run("Snakefile", "--printshellcmds", run_id=run_id, workdir="tutorial", timeout=600)
    assert run.returncode == 0, run.output[-4000:]
    return run


def _objects(driver, run_id: str) -> dict[str, str]:
    """Every object of the run but Snakemake's own (.snakemake/), by key under the run's prefix."""
    s3 = driver.cloud.client("s3")
    found = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=DATA_BUCKET, Prefix=f"{run_id}/"):
        for item in page.get("Contents", []):
            key = item["Key"].removeprefix(f"{run_id}/")
            if not key.startswith(".snakemake/"):
                found[key] = s3.get_object(Bucket=DATA_BUCKET, Key=item["Key"])["Body"].read().decode()
    return found


def test_every_rule_made_what_the_tutorial_expects(driver, tutorial_run):
    files = _objects(driver, tutorial_run.run_id)
    for sample in SAMPLES:
        sorted_lines = files[f"results/sorted/{sample}.txt"].splitlines()
        # params: a raw string with the {sample} wildcard, and a lambda reading config (A only has one)
        assert f"@RG\\tID:{sample}\\tSM:{sample}" in sorted_lines
        assert ("first sample" if sample == "A" else "none") in sorted_lines
        assert "3" in sorted_lines  # the reference's lines: a second input, named, from config
        assert "ADAPTER-TruSeq" in sorted_lines  # workflow.source_path: a tracked file of the repository
        assert {f"{sample}1\t2", f"{sample}2\t2"} <= set(sorted_lines)  # {threads} in the command is 2
        assert files[f"logs/map_reads/{sample}.log"] == f"mapped {sample}\n"
        assert files[f"results/benchmarks/{sample}.tsv"].startswith("s\th:m:s\tmax_rss")
        assert f"results/mapped/{sample}.txt" not in files  # temp(): removed once sorted
    assert files["results/summary.txt"] == "3 samples, 18 lines, rate 0.001\n"  # script: with params
    assert files["logs/summarize.log"] == "summarized\n"  # the script's own stderr, to snakemake.log
    report = json.loads(files["results/report.json"])  # run: block, executed inside the Batch job
    assert sorted(report["lines"].values()) == [6, 6, 6]
    assert report["summary"] == files["results/summary.txt"]


def test_each_rule_ran_as_batch_jobs_with_its_threads_as_vcpus(driver, tutorial_run):
    records = tutorial_run.records
    assert Counter(r.rule for r in records if r.status == JobStatus.SUCCEEDED) == {
        "map_reads": 3, "sort_reads": 3, "summarize": 1, "report": 1,
    }  # fmt: skip
    batch = driver.cloud.client("batch")
    mapped = [r.batch_job_id for r in records if r.rule == "map_reads"]
    vcpus = {
        req["value"]
        for job in batch.describe_jobs(jobs=mapped)["jobs"]
        for req in job["container"]["resourceRequirements"]
        if req["type"] == "VCPU"
    }
    assert vcpus == {"2"}  # threads: 2, no aws_batch_vcpu


def test_snakemake_shows_each_job_as_it_does_with_any_executor(tutorial_run):
    output = tutorial_run.output
    for sample in SAMPLES:  # the rule's message:, with its wildcards and threads filled in
        assert f"Mapping {sample} with 2 threads" in output
        assert (
            f"sort .snakemake/storage/s3/{DATA_BUCKET}/{tutorial_run.run_id}/results/mapped/{sample}.txt"
            in output
        )
    assert output.count("rule sort_reads:") == 3  # the job block: rule, files, wildcards (no message:)
    assert "wildcards: sample=B" in output
    assert "rule summarize:" in output and "rule report:" in output


def test_running_it_again_does_nothing_and_leaves_no_run_behind(driver, tutorial_run):
    again = driver.new_run_id()  # the same storage prefix, under a run id of its own
    run = driver.run(
        "Snakefile", "--aws-basic-batch-sls-run-id", again, run_id=tutorial_run.run_id, workdir="tutorial"
    )
    assert run.returncode == 0, run.output[-4000:]
    assert "Nothing to be done" in run.output
    assert driver.run_store().get(again) is None  # not a run RUNNING forever in `runs`
    assert driver.run_store().get(tutorial_run.run_id).status == "SUCCEEDED"


def test_outside_git_a_file_the_snakefile_reads_is_missing_in_the_job_and_the_message_says_so(
    driver, repositories
):
    run_id = driver.new_run_id()
    _upload_inputs(driver, run_id, "tutorial-no-git")
    run = driver.run("Snakefile", run_id=run_id, workdir="tutorial-no-git", timeout=600)
    assert run.returncode != 0
    # The job's Snakemake stopped parsing the Snakefile: the failure quotes the end of its log.
    assert "its log ends with:" in run.output
    assert "FileNotFoundError" in run.output and "config/samples.tsv" in run.output
