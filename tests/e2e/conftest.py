"""End-to-end: real Snakemake through the local cloud (moto on loopback, our Lambda and Batch runtime)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from localcloud.batch import BatchRuntimeConfig
from localcloud.cloud import DATA_BUCKET, LocalCloud
from localcloud.interrupt import interruptible
from localcloud.report import run_records
from sls_contract import stack_outputs
from sls_contract.job_record import JobRecord
from sls_contract.run_store import RunStore

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def workflows(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test workflows plus examples/demo's Snakefile: the user's directory, not in any image."""
    directory = tmp_path_factory.mktemp("workflows")
    shutil.copytree(HERE / "workflows", directory, dirs_exist_ok=True)
    shutil.copy(REPO_ROOT / "examples" / "demo" / "Snakefile", directory / "demo.smk")
    return directory


@dataclass
class Run:
    run_id: str
    returncode: int
    output: str
    records: list[JobRecord]


class Driver:
    """Runs `snakemake --executor aws-basic-batch-sls` against one local cloud."""

    def __init__(self, cloud: LocalCloud, workflows: Path) -> None:
        self.cloud = cloud
        self.workflows = workflows

    def command(self, snakefile: str, run_id: str, *extra: str) -> list[str]:
        return [
            sys.executable, "-m", "snakemake", "--snakefile", snakefile,
            *self.cloud.snakemake_args(f"s3://{DATA_BUCKET}/{run_id}"),
            "--aws-basic-batch-sls-run-id", run_id,
            "--jobs", "30", "--seconds-between-status-checks", "1", "--nocolor", *extra,
        ]  # fmt: skip

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {**os.environ, **self.cloud.client_env(), **(extra or {})}

    @staticmethod
    def new_run_id() -> str:
        return f"e2e-{uuid.uuid4().hex[:8]}"

    def start(
        self,
        snakefile: str,
        *extra: str,
        env: dict[str, str] | None = None,
        run_id: str | None = None,
        workdir: str = ".",
    ) -> tuple[str, subprocess.Popen]:
        """Snakemake in `workdir` (a folder of the workflows directory, as a user runs it from their
        workflow's folder), its run filed under `run_id` and stored under that prefix."""
        run_id = run_id or self.new_run_id()
        process = subprocess.Popen(
            interruptible(self.command(snakefile, run_id, *extra)),
            cwd=self.workflows / workdir, env=self.env(env),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        return run_id, process

    def run(
        self,
        snakefile: str,
        *extra: str,
        timeout: float = 300,
        env: dict[str, str] | None = None,
        run_id: str | None = None,
        workdir: str = ".",
    ) -> Run:
        run_id, process = self.start(snakefile, *extra, env=env, run_id=run_id, workdir=workdir)
        output, _ = process.communicate(timeout=timeout)
        return Run(run_id, process.returncode, output, self.records(run_id))

    def records(self, run_id: str) -> list[JobRecord]:
        table = self.cloud.deployment.outputs[stack_outputs.JOBS_TABLE_NAME]
        return run_records(self.cloud.client("dynamodb"), table, run_id)

    def run_store(self) -> RunStore:
        return RunStore(
            self.cloud.client("dynamodb"), self.cloud.deployment.outputs[stack_outputs.JOBS_TABLE_NAME]
        )

    def batch_jobs(self, run_id: str) -> list[dict]:
        """Every Batch job that runs a job of the run, whatever its status (ListJobs with a name
        filter); an array job counts as its children (ListJobs by arrayJobId), not itself."""
        batch = self.cloud.client("batch")
        queue = self.cloud.deployment.outputs[stack_outputs.JOB_QUEUE_ARN]
        ids = {r.batch_job_id for r in self.records(run_id) if r.batch_job_id}
        arrays = {job_id.split(":")[0] for job_id in ids if ":" in job_id}
        statuses = ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED")
        jobs = []
        for status in statuses:
            listed = batch.list_jobs(jobQueue=queue, jobStatus=status)["jobSummaryList"]
            jobs.extend(j for j in listed if j["jobId"] in ids or run_id in j.get("jobName", ""))
            arrays.update(j["jobId"] for j in listed if run_id in j.get("jobName", ""))
        for parent in arrays:
            for status in statuses:  # ListJobs without a status lists RUNNING jobs only
                jobs.extend(batch.list_jobs(arrayJobId=parent, jobStatus=status)["jobSummaryList"])
        return [j for j in jobs if "size" not in j.get("arrayProperties", {})]


def _cloud(workflows: Path, **knobs: object) -> Iterator[Driver]:
    # A stock image: jobs get the workflow only through Snakemake's source deployment (job_deploy_sources).
    # Attempt timeouts at a fifth: timeout.smk's 60 s rule is killed after 12 s, while a rule's 300 s (demo's
    # count, features.smk's runtime=5) still leaves 60 s for a job that starts Snakemake twice on 2 busy cores.
    batch = BatchRuntimeConfig(time_scale=0.2, **knobs.pop("batch", {}))
    with LocalCloud(batch_config=batch, retry_delay=1, **knobs) as cloud:
        yield Driver(cloud, workflows)


@pytest.fixture(scope="module")
def driver(workflows: Path) -> Iterator[Driver]:
    yield from _cloud(workflows)


@pytest.fixture
def faulty_driver(workflows: Path) -> Iterator[Driver]:
    """Every fault knob on, with a fixed seed."""
    yield from _cloud(
        workflows,
        seed=11,
        sqs_duplicate_rate=0.5,
        jobs_queue_deliveries=2,  # every spec twice, whatever the draws (they depend on random names)
        batch={
            "seed": 11,
            "event_duplicate_rate": 0.3,
            "event_reorder_rate": 0.3,
            "event_delay_seconds": 0.5,
            "submit_throttle_rate": 0.2,
        },
    )
