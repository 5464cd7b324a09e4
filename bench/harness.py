"""Runs one workload through one plugin on a running local cloud and collects what the probe saw."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from localcloud import dynamodb_meter
from localcloud.cloud import DATA_BUCKET, LocalCloud
from localcloud.endpoint import REGION
from localcloud.report import run_records
from sls_contract import stack_outputs
from sls_contract.arrays import COMMAND_ATTRIBUTE, command_key
from sls_contract.job_record import (
    ISO_FORMAT,
    JOB_ID_ENV,
    RUN_ID_ENV,
    TABLE_ENV,
    JobRecord,
    child_job_id,
    item_key,
)
from sls_contract.status import TERMINAL

HERE = Path(__file__).resolve().parent
PROBE_DIR = HERE / "probe"
SNAKEFILE = HERE / "Snakefile"

PLUGINS = ("aws-basic-batch-sls", "aws-basic-batch")
# The same Snakemake flags for both plugins. Hand-off is not to be limited by Snakemake's own
# submission rate limit (default 100 jobs/s), so it is raised for both; status rounds keep
# Snakemake's default rate limit (10 checks/s) and use a 1 s interval.
COMMON_FLAGS = [
    "--max-jobs-per-timespan", "100000/1s",
    "--seconds-between-status-checks", "1",
    "--latency-wait", "10",
    "--nocolor", "--quiet", "rules",
]  # fmt: skip
# Both processes get the same retry configuration (botocore's standard mode): the local Batch
# enforces the 50 TPS SubmitJob quota and the aws-basic-batch plugin submits from the client.
RETRY_ENV = {"AWS_RETRY_MODE": "standard", "AWS_MAX_ATTEMPTS": "10"}

# The calls that hand jobs over: this plugin's spec sends (after, for an array, its children's records
# and commands: BatchWriteItem), the polling plugin's SubmitJob. The first one starts the hand-off.
HANDOFF_OPS = ("dynamodb.BatchWriteItem", "sqs.SendMessageBatch", "batch.SubmitJob")

_TARGET = re.compile(r"--target-jobs\s+'?work:i=(\d+)")
_PREFIX = re.compile(r"--default-storage-prefix\s+'?(s3://[^'\s]+)")


class OutputWriter:
    """on_simulated_success: put the job's Snakemake output in the local S3, as the job would have.
    Called from the local Batch's completion threads, several at once: clients are made once, locked."""

    def __init__(self) -> None:
        self._s3: Any = None
        self._dynamodb: Any = None
        self._lock = threading.Lock()

    def __call__(self, job: dict[str, Any]) -> None:
        command = " ".join(self._command(job))
        target, prefix = _TARGET.search(command), _PREFIX.search(command)
        if not (target and prefix):
            raise ValueError("not a bench fan-out job: no --target-jobs work:i=N / storage prefix")
        with self._lock:
            if self._s3 is None:
                self._s3 = self._client("s3")
        bucket, _, key = prefix.group(1)[len("s3://") :].partition("/")
        self._s3.put_object(Bucket=bucket, Key=f"{key}/out/{target.group(1)}.txt", Body=b"simulated\n")

    def _command(self, job: dict[str, Any]) -> list[str]:
        """The job's Snakemake command; an array child's is not in its description (every child has the
        array's bootstrap) but in the jobs table, read with one GetItem by its index, as the child does."""
        index = (job.get("arrayProperties") or {}).get("index")
        if index is None:
            return job["container"]["command"]
        env = {e["name"]: e["value"] for e in job["container"].get("environment", [])}
        with self._lock:
            if self._dynamodb is None:
                self._dynamodb = self._client("dynamodb")
        run_id, child = env[RUN_ID_ENV], child_job_id(env[JOB_ID_ENV], index)
        item = self._dynamodb.get_item(
            TableName=env[TABLE_ENV], Key=item_key(run_id, command_key(child)), ConsistentRead=True
        )["Item"]
        return [part["S"] for part in item[COMMAND_ATTRIBUTE]["L"]]

    @staticmethod
    def _client(service: Literal["s3", "dynamodb"]) -> Any:
        """A client of the running local cloud (this process's environment points at it)."""
        import boto3

        from localcloud.endpoint import CREDENTIALS

        endpoint = os.environ.get(f"AWS_ENDPOINT_URL_{service.upper()}") or os.environ["AWS_ENDPOINT_URL"]
        return boto3.client(
            service, endpoint_url=endpoint, region_name=REGION,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )  # fmt: skip


@dataclass
class RunResult:
    plugin: str
    n: int
    simulated: bool
    returncode: int
    wall_seconds: float
    probe: dict[str, Any]
    terminal_at: dict[str, float]  # external job id -> when Batch recorded it terminal (epoch s)
    created_at: dict[str, float]  # external job id -> when Batch accepted SubmitJob (epoch s)
    lambda_delta: dict[str, dict[str, Any]] = field(default_factory=dict)
    array_min_size: int = 0  # this plugin's --aws-basic-batch-sls-array-min-size in this run (0: per job)
    # this plugin only: external job id -> when the record function wrote its terminal state (epoch s)
    recorded_at: dict[str, float] = field(default_factory=dict)
    output_tail: str = ""
    imports: dict[str, Any] = field(default_factory=dict)  # bench.imports: handler init and its bare twin
    run_id: str = ""
    # this plugin only: DynamoDB request units the run's partition cost (localcloud/dynamodb_meter.py)
    dynamodb_units: dict[str, float] = field(default_factory=dict)
    started_at: dict[str, float] = field(default_factory=dict)  # external job id -> its last attempt RUNNING

    # -- figures --------------------------------------------------------------------------------
    def handoff_seconds(self) -> float | None:
        submitted = sorted(self.probe["submitted"].values())
        first_ops = [t for op, t in self.probe["first_call"].items() if op in HANDOFF_OPS]
        if not submitted or not first_ops:
            return None
        return submitted[-1] - min(first_ops)

    def batch_handoff_seconds(self) -> float | None:
        """From the first hand-off call until Batch had accepted every job (SubmitJob done)."""
        first_ops = [t for op, t in self.probe["first_call"].items() if op in HANDOFF_OPS]
        if len(self.created_at) < self.n or not first_ops:
            return None
        return max(self.created_at.values()) - min(first_ops)

    def makespan_seconds(self) -> float | None:
        noticed = [t for t, _ in self.probe["noticed"].values()]
        first_ops = [t for op, t in self.probe["first_call"].items() if op in HANDOFF_OPS]
        if not noticed or not first_ops:
            return None
        return max(noticed) - min(first_ops)

    def job_seconds(self) -> list[float]:
        """Each job's time in Batch from its last attempt's RUNNING to its terminal state, sorted."""
        return sorted(
            self.terminal_at[job] - started
            for job, started in self.started_at.items()
            if job in self.terminal_at and job in self.created_at
        )

    def first_to_end(self, fraction: float) -> set[str]:
        """The ids of the first `fraction` of the jobs to reach a terminal state in Batch (at least one)."""
        ordered = sorted(self.terminal_at, key=self.terminal_at.__getitem__)
        return set(ordered[: max(1, int(len(ordered) * fraction))])

    def _noticed(self, only: set[str] | None) -> list[tuple[str, float]]:
        """(job id, when Snakemake was told it ended), for these jobs only (all jobs when None)."""
        return [(j, t) for j, (t, _) in self.probe["noticed"].items() if only is None or j in only]

    def detection_seconds(self, only: set[str] | None = None) -> list[float]:
        out = []
        for job_id, noticed in self._noticed(only):
            stopped = self.terminal_at.get(job_id)
            if stopped is not None:
                out.append(max(0.0, noticed - stopped))
        return sorted(out)

    def detection_split(self, only: set[str] | None = None) -> tuple[list[float], list[float]]:
        """This plugin's detection in two legs: Batch's terminal state -> the record function's write
        (events, SQS, the record function, DynamoDB: the control plane), and that write -> Snakemake
        noticing it (the plugin's status reads). `only`: these jobs' (all jobs when None)."""
        to_record, to_notice = [], []
        for job_id, noticed in self._noticed(only):
            stopped, recorded = self.terminal_at.get(job_id), self.recorded_at.get(job_id)
            if stopped is not None and recorded is not None:
                to_record.append(max(0.0, recorded - stopped))
                to_notice.append(max(0.0, noticed - recorded))
        return sorted(to_record), sorted(to_notice)

    def busy_rounds(self) -> list[dict[str, Any]]:
        """Status rounds with at least 90% of the workload active (all rounds if none reached it)."""
        rounds = self.probe["rounds"]
        busy = [r for r in rounds if r["active"] >= 0.9 * self.n]
        return busy or sorted(rounds, key=lambda r: -r["active"])[:1]


def _snakemake_flags(cloud: LocalCloud, plugin: str, run_id: str, array_min_size: int = 0) -> list[str]:
    """array_min_size: this plugin's setting (0: every job its own Batch job, as the polling plugin)."""
    prefix = f"s3://{DATA_BUCKET}/{run_id}"
    if plugin == "aws-basic-batch-sls":
        return [
            *cloud.snakemake_args(prefix), "--aws-basic-batch-sls-run-id", run_id,
            "--aws-basic-batch-sls-array-min-size", str(array_min_size),
        ]  # fmt: skip
    outputs = cloud.deployment.outputs
    return [
        "--executor", "aws-basic-batch",
        "--aws-basic-batch-region", REGION,
        "--aws-basic-batch-job-queue", outputs[stack_outputs.JOB_QUEUE_ARN],
        "--aws-basic-batch-job-definition", outputs[stack_outputs.JOB_DEFINITION_ARN],
        "--default-storage-provider", "s3",
        "--default-storage-prefix", prefix,
        "--storage-s3-endpoint-url", cloud.endpoint.url,
    ]  # fmt: skip


def _batch_times(
    cloud: LocalCloud, records: list[JobRecord] | None
) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """External job id -> when the local Batch put the job in SUCCEEDED/FAILED, when it was created, and
    when its last attempt started RUNNING. `records`: this plugin's job records (its external ids are
    record keys), None for aws-basic-batch."""
    engine = cloud.batch.engine
    with engine.lock:
        stopped = {job_id: r.stopped_ms / 1000 for job_id, r in engine.records.items() if r.stopped_ms}
        created = {job_id: r.created_ms / 1000 for job_id, r in engine.records.items()}
        started = {job_id: r.started_ms / 1000 for job_id, r in engine.records.items() if r.started_ms}
    if records is None:
        return stopped, created, started
    ids = {r.job_id: r.batch_job_id for r in records}

    def by_job(times: dict[str, float]) -> dict[str, float]:
        return {job: times[batch] for job, batch in ids.items() if batch in times}

    return by_job(stopped), by_job(created), by_job(started)


def _record_times(records: list[JobRecord]) -> dict[str, float]:
    """Job id -> when its record was last written (its terminal state, once the run is over)."""
    return {
        r.job_id: datetime.strptime(r.updated_at, ISO_FORMAT).replace(tzinfo=UTC).timestamp()
        for r in records
        if r.updated_at and r.status in TERMINAL
    }


def _lambda_delta(before: dict[str, dict], after: dict[str, dict]) -> dict[str, dict[str, Any]]:
    delta = {}
    for name, stats in after.items():
        old = before.get(name, {})
        delta[name] = {
            key: stats.get(key, 0) - old.get(key, 0)
            for key in (
                "invocations",
                "records",
                "failed_records",
                "handler_cpu_seconds",
                "handler_wall_seconds",
                "billed_ms",
                "log_bytes",
            )
        }
        for key in ("calls", "call_cpu_seconds", "worker_calls"):
            delta[name][key] = {
                op: value - old.get(key, {}).get(op, 0) for op, value in stats.get(key, {}).items()
            }
        for key in ("workers", "import_seconds", "first_invocation_seconds", "first_invocation_cpu_seconds"):
            delta[name][key] = stats.get(key, 0)
    return delta


def wait_for_lambdas_idle(cloud: LocalCloud, timeout: float = 120) -> None:
    """Let the record function drain the events of the previous run before the next one starts."""
    deadline, last, quiet_since = time.monotonic() + timeout, None, time.monotonic()
    while time.monotonic() < deadline:
        current = json.dumps(cloud.lambdas.stats(), sort_keys=True)
        if current != last:
            last, quiet_since = current, time.monotonic()
        elif time.monotonic() - quiet_since > 3:
            return
        time.sleep(0.5)


@dataclass(frozen=True)
class Fanout:
    """One fan-out run, ready to start: its id, directory, command and environment."""

    run_id: str
    rundir: Path
    command: list[str]
    env: dict[str, str]

    @property
    def probe_out(self) -> Path:
        return self.rundir / "probe.json"


def prepare_fanout(
    cloud: LocalCloud, plugin: str, n: int, workdir: Path, extra_env: dict[str, str] | None = None,
    prefix: str = "bench", array_min_size: int = 0,
) -> Fanout:  # fmt: skip
    """The bench Snakefile's N-way fan-out through ``plugin``, with the probe on (not started)."""
    run_id = f"{prefix}-{plugin.rsplit('-', 1)[-1]}-{n}-{uuid.uuid4().hex[:6]}"
    rundir = workdir / run_id
    rundir.mkdir(parents=True)
    shutil.copy(SNAKEFILE, rundir / "Snakefile")
    command = [
        sys.executable, "-m", "snakemake", "--snakefile", "Snakefile",
        *_snakemake_flags(cloud, plugin, run_id, array_min_size),
        "--jobs", str(n), "--config", f"fanout={n}", *COMMON_FLAGS,
    ]  # fmt: skip
    env = {
        **os.environ,
        **cloud.client_env(),
        **RETRY_ENV,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PROBE_DIR), os.environ.get("PYTHONPATH")])),
        "BENCH_PROBE_OUT": str(rundir / "probe.json"),
        **(extra_env or {}),
    }
    return Fanout(run_id, rundir, command, env)


def run_workload(
    cloud: LocalCloud, plugin: str, n: int, workdir: Path, simulated: bool, timeout: float = 1800,
    extra_env: dict[str, str] | None = None, prefix: str = "bench", array_min_size: int = 0,
) -> RunResult:  # fmt: skip
    fanout = prepare_fanout(cloud, plugin, n, workdir, extra_env, prefix, array_min_size)
    run_id, rundir, command, env, probe_out = (
        fanout.run_id, fanout.rundir, fanout.command, fanout.env, fanout.probe_out
    )  # fmt: skip
    wait_for_lambdas_idle(cloud)
    before = cloud.lambdas.stats()
    started = time.monotonic()
    with open(rundir / "snakemake.log", "w") as log:
        proc = subprocess.run(
            command, cwd=rundir, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=timeout
        )
    wall = time.monotonic() - started
    wait_for_lambdas_idle(cloud)
    probe = json.loads(probe_out.read_text()) if probe_out.exists() else {
        "rounds": [], "other": {}, "other_sends": {}, "submitted": {}, "noticed": {}, "first_call": {},
    }  # fmt: skip
    records = None
    if plugin == "aws-basic-batch-sls":
        table = cloud.deployment.outputs[stack_outputs.JOBS_TABLE_NAME]
        records = run_records(cloud.client("dynamodb"), table, run_id)
    terminal_at, created_at, started_at = _batch_times(cloud, records)
    created_at = {job: t for job, t in created_at.items() if job in probe["submitted"]}
    tail = "\n".join((rundir / "snakemake.log").read_text().splitlines()[-15:])
    return RunResult(
        plugin=plugin, n=n, simulated=simulated, returncode=proc.returncode, wall_seconds=wall,
        probe=probe, terminal_at=terminal_at, created_at=created_at, started_at=started_at,
        array_min_size=array_min_size,
        lambda_delta=_lambda_delta(before, cloud.lambdas.stats()), output_tail=tail,
        recorded_at=_record_times(records) if records is not None else {}, run_id=run_id,
        dynamodb_units=dynamodb_meter.read(cloud.dynamodb.url if cloud.dynamodb else None, run_id)
        if records is not None else {},
    )  # fmt: skip
