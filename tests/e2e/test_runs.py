"""Whole runs on the local cloud, with nobody's Snakemake attached: triggers -> Step Functions ->
coordinator Batch job (Snakemake with this executor inside Batch) -> its jobs -> run record."""

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from localcloud.batch import active_runtime
from localcloud.cloud import DATA_BUCKET
from sls_contract import stack_outputs
from sls_contract.run_record import COORDINATOR_JOB_ID, RUN_TERMINAL, RunRecord, RunStatus
from sls_contract.run_store import RunStore
from tests.e2e.conftest import Driver, _cloud
from tests.support.polling import wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def runs_driver(workflows: Path) -> Iterator[Driver]:
    # workflow_source "bundled": the coordinator's image holds the workflow (its rule jobs would not need it).
    yield from _cloud(workflows, batch={"image_dirs": {"*": workflows}})


def _runs(driver: Driver) -> RunStore:
    return RunStore(
        driver.cloud.client("dynamodb"), driver.cloud.deployment.outputs[stack_outputs.JOBS_TABLE_NAME]
    )


def _request(snakefile: str, **extra) -> dict:
    run_id = f"run-{uuid.uuid4().hex[:8]}"
    return {
        "run_id": run_id,
        "snakefile": snakefile,
        "storage_prefix": f"s3://{DATA_BUCKET}/{run_id}",
        "jobs": 10,
        **extra,
    }


def _finished(driver: Driver, run_id: str, timeout: float = 240) -> RunRecord:
    return wait_until(
        lambda: (run := _runs(driver).get(run_id)) and run.status in RUN_TERMINAL and run,
        timeout,
        f"run {run_id} to finish",
    )


def _request_by_event(driver: Driver, request: dict) -> None:
    driver.cloud.client("events").put_events(
        Entries=[
            {"Source": "aws-basic-batch-sls", "DetailType": "Run Requested", "Detail": json.dumps(request)}
        ]
    )


def _summary(driver: Driver, run_id: str) -> str:
    body = driver.cloud.client("s3").get_object(Bucket=DATA_BUCKET, Key=f"{run_id}/summary.txt")["Body"]
    return body.read().decode().strip()


def test_an_uploaded_run_request_runs_the_workflow(runs_driver):
    outputs = runs_driver.cloud.deployment.outputs
    request = _request("demo.smk", config={"samples": 2})
    request.pop("run_id")  # the run id comes from the upload
    key = f"{outputs[stack_outputs.RUN_REQUEST_PREFIX]}demo.yaml"
    body = "\n".join(f"{k}: {json.dumps(v)}" for k, v in request.items())
    runs_driver.cloud.client("s3").put_object(
        Bucket=outputs[stack_outputs.RUNS_BUCKET], Key=key, Body=body.encode()
    )
    run = wait_until(
        lambda: next((r for r in _runs(runs_driver).recent() if r.trigger and r.trigger.endswith(key)), None),
        60,
        "the upload's run record",
    )
    run = _finished(runs_driver, run.run_id)
    assert run.status == RunStatus.SUCCEEDED, run.cause
    assert run.job_counts == {"SUCCEEDED": 2 * 2 + 1 + 1}  # 5 rule jobs and the coordinator
    assert run.coordinator_job_id and run.execution_arn.endswith(run.run_id)
    storage = request["storage_prefix"].removeprefix(f"s3://{DATA_BUCKET}/")
    body = runs_driver.cloud.client("s3").get_object(Bucket=DATA_BUCKET, Key=f"{storage}/summary.txt")["Body"]
    assert body.read().decode().strip() == str(1 + 11)


def test_an_event_runs_the_workflow_and_a_duplicate_trigger_starts_one_run(runs_driver):
    request = _request("demo.smk", config={"samples": 1})
    _request_by_event(runs_driver, request)
    _request_by_event(runs_driver, request)
    run = _finished(runs_driver, request["run_id"])
    assert run.status == RunStatus.SUCCEEDED, run.cause
    assert _summary(runs_driver, request["run_id"]) == "1"
    sfn = runs_driver.cloud.client("stepfunctions")
    executions = sfn.list_executions(
        stateMachineArn=runs_driver.cloud.deployment.outputs["CoordinatorStateMachineArn"]
    )
    assert [e["name"] for e in executions["executions"]].count(request["run_id"]) == 1


def test_a_failing_workflow_fails_the_run_and_leaves_no_job_running(runs_driver):
    request = _request("failing.smk")
    _request_by_event(runs_driver, request)
    run = _finished(runs_driver, request["run_id"])
    assert run.status == RunStatus.FAILED
    assert "exit code 1" in run.cause
    assert run.job_counts == {"FAILED": 2}  # the rule job and the coordinator
    assert active_runtime().running_pids() == []


def test_killing_the_coordinator_fails_the_run_and_terminates_its_jobs(runs_driver):
    request = _request("hang.smk")
    _request_by_event(runs_driver, request)
    run_id = request["run_id"]
    # 2 vCPUs: the coordinator and one job run, the other two jobs wait RUNNABLE
    wait_until(
        lambda: (
            sum(r.status == "RUNNING" for r in runs_driver.records(run_id)) >= 2
            and len(runs_driver.records(run_id)) == 4
        ),
        120,
        "the coordinator and a job RUNNING, two more submitted",
    )
    coordinator = next(r for r in runs_driver.records(run_id) if r.job_id == COORDINATOR_JOB_ID)
    runs_driver.cloud.client("batch").terminate_job(
        jobId=coordinator.batch_job_id, reason="killed by the test"
    )
    run = _finished(runs_driver, run_id)
    assert run.status == RunStatus.FAILED
    assert "killed by the test" in run.cause
    wait_until(
        lambda: all(r.status == "FAILED" for r in runs_driver.records(run_id)),
        60,
        "every job of the run FAILED",
    )
    wait_until(lambda: active_runtime().running_pids() == [], 30, "no job process left")


def test_coordinator_mode_hands_the_run_over_and_exits(runs_driver):
    run = runs_driver.run("demo.smk", "--aws-basic-batch-sls-coordinator", "--config", "samples=1")
    assert run.returncode == 0, run.output[-3000:]
    assert f"started run {run.run_id}" in run.output
    assert "You can disconnect now." in run.output
    finished = _finished(runs_driver, run.run_id)
    assert finished.status == RunStatus.SUCCEEDED, finished.cause
    assert finished.trigger == "snakemake --aws-basic-batch-sls-coordinator"
    assert _summary(runs_driver, run.run_id) == "1"
