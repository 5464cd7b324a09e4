"""The operator CLI against moto: runs, show, and one readable line per error or setting."""

from __future__ import annotations

import io
import json
from typing import Any
from unittest.mock import ANY

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer
from rich.console import Console

from localcloud.endpoint import free_port
from sls_contract.job_store import JobStore
from sls_contract.run_record import RunStatus
from sls_contract.run_store import RunStore
from snakemake_executor_plugin_aws_basic_batch_sls.cli import main
from snakemake_executor_plugin_aws_basic_batch_sls.cli.tables import when
from tests.support.cli import ARN, DURATION, STACK, add_job, cli, rows
from tests.support.cloud import REGION

# -- runs ---------------------------------------------------------------------------------------------


def test_runs_lists_newest_first_with_counts(stack: dict, runs: RunStore, jobs: JobStore) -> None:
    # GIVEN a finished run (counts on its record), a failed one and a live one (counts read now)
    runs.create("run-a", "s3://bucket/requests/a.yaml", {"storage_prefix": "s3://bucket/a"})
    runs.finish("run-a", RunStatus.SUCCEEDED, None, {"SUCCEEDED": 3})
    runs.create("run-f", "event:1234", None)
    runs.finish("run-f", RunStatus.FAILED, "States.TaskFailed: " + "x" * 100 + "\nsecond line", {"FAILED": 1})
    runs.create("run-b", "schedule", None)
    runs.start("run-b", ARN, "schedule", {"storage_prefix": "s3://bucket/b"})
    add_job(jobs, "run-b", "job-00000001", "map", "batch_job_running", "batch-1")
    add_job(jobs, "run-b", "job-00000002", "map", "batch_job_succeeded", "batch-2")
    created = {run.run_id: when(run.created_at) for run in runs.recent()}
    finished = {run.run_id: when(run.finished_at) for run in runs.recent()}

    # WHEN
    code, output = cli("runs")

    # THEN newest first, live counts for the running run, the cause's first line cut to 60
    assert code == 0
    assert rows(output)[1:] == [
        ["run-b", "RUNNING", "schedule", created["run-b"], "-", "RUNNING 1, SUCCEEDED 1", ""],
        ["run-f", "FAILED", "event:1234", created["run-f"], finished["run-f"], "FAILED 1",
         "States.TaskFailed: " + "x" * 40 + "…"],
        ["run-a", "SUCCEEDED", "s3://bucket/requests/a.yaml", created["run-a"], finished["run-a"],
         "SUCCEEDED 3", ""],
    ]  # fmt: skip
    assert rows(output)[0] == ["run id", "status", "trigger", "created", "finished", "jobs", "cause"]


def test_runs_recounts_a_run_stopped_while_its_jobs_were_ending(
    stack: dict, runs: RunStore, jobs: JobStore
) -> None:
    # GIVEN a run aborted by Ctrl-C, its counts taken before the terminated job's end was recorded
    runs.create("run-c", "snakemake wf (me@here)", None)
    add_job(jobs, "run-c", "job-00000001", "map", "batch_job_succeeded", "batch-1")
    add_job(jobs, "run-c", "job-00000002", "map", "batch_job_running", "batch-2")
    runs.finish("run-c", RunStatus.ABORTED, "cancelled", {"SUCCEEDED": 1, "RUNNING": 1})
    add_job(jobs, "run-c", "job-00000002", "map", "batch_job_failed", "batch-2")  # its end, recorded later

    code, output = cli("runs")

    assert code == 0
    assert rows(output)[1][5] == "SUCCEEDED 1, FAILED 1"


def test_runs_limit_and_no_runs(stack: dict, runs: RunStore) -> None:
    assert cli("runs") == (0, "no runs yet\n")
    for run_id in ("run-1", "run-2", "run-3"):
        runs.create(run_id, "schedule", None)

    code, output = cli("runs", "--limit", "2")

    assert code == 0
    assert [row[0] for row in rows(output)[1:]] == ["run-3", "run-2"]


# -- show ---------------------------------------------------------------------------------------------


def test_show_prints_the_run_its_jobs_and_counts(stack: dict, runs: RunStore, jobs: JobStore) -> None:
    # GIVEN a run that failed after its coordinator started two jobs
    runs.create("run-b", "event:1234", None)
    runs.start("run-b", ARN, "event:1234", {"storage_prefix": "s3://bucket/b"})
    add_job(jobs, "run-b", "job-00000001", "map", "batch_job_succeeded", "batch-1")
    add_job(jobs, "run-b", "job-00000002", "reduce", "batch_job_failed", "batch-2")
    add_job(jobs, "run-b", "job-00000003", "plot")
    runs.finish(
        "run-b", RunStatus.FAILED, "coordinator exited 1", {"SUCCEEDED": 1, "FAILED": 1}, "batch-coord"
    )
    run = runs.get("run-b")
    assert run is not None

    # WHEN
    code, output = cli("show", "run-b")

    # THEN the record (with a console link: not the local cloud), every job, and the counts
    assert code == 0
    lines = [line.rstrip() for line in output.splitlines()]
    assert lines[:10] == [
        "run              run-b",
        "status           FAILED",
        "trigger          event:1234",
        f"execution        {ARN}",
        f"console          https://{REGION}.console.aws.amazon.com/states/home?region={REGION}"
        f"#/v2/executions/details/{ARN}",
        "coordinator job  batch-coord",
        "cause            coordinator exited 1",
        f"created          {when(run.created_at)}",
        f"started          {when(run.started_at)}",
        f"finished         {when(run.finished_at)}",
    ]
    assert rows(output) == [
        ["rule", "Batch job id", "status", "exit code", "attempts", "duration (s)", "reason"],
        ["map", "batch-1", "SUCCEEDED", "0", "1", DURATION, ""],
        [
            "reduce",
            "batch-2",
            "FAILED",
            "137",
            "1",
            DURATION,
            "Essential container in task exited: OutOfMemoryError: Container killed due to m…",
        ],
        ["plot", "-", "SUBMITTING", "-", "-", "-", ""],
    ]
    assert lines[-1] == "3 jobs: SUBMITTING 1, SUCCEEDED 1, FAILED 1"


def test_show_a_run_the_plugin_started_without_a_run_record(stack: dict, jobs: JobStore) -> None:
    add_job(jobs, "laptop-run", "job-00000001", "map", "batch_job_running", "batch-1")

    code, output = cli("show", "laptop-run")

    assert code == 0
    assert output.splitlines()[0] == (
        "run laptop-run: no run record (started by snakemake directly, not by a trigger)"
    )
    assert rows(output)[1] == ["map", "batch-1", "RUNNING", "-", "0", "-", ""]
    assert output.splitlines()[-1] == "1 jobs: RUNNING 1"


def test_show_on_the_local_cloud_by_endpoint_url(stack: dict, runs: RunStore, jobs: JobStore) -> None:
    # GIVEN a moto server on loopback (as the local cloud runs it) over this test's moto backends
    runs.create("run-b", "schedule", None)
    runs.start("run-b", ARN, "schedule", {"storage_prefix": "s3://bucket/b"})
    add_job(jobs, "run-b", "job-00000001", "map", "batch_job_running", "batch-1")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        # WHEN the endpoint comes from the plugin's environment variable
        out = io.StringIO()
        with pytest.MonkeyPatch.context() as env:
            env.setenv("SNAKEMAKE_AWS_BASIC_BATCH_SLS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
            code = main(["--stack", STACK, "show", "run-b"], Console(file=out, width=250, color_system=None))
    finally:
        server.stop()

    # THEN the run and its jobs, and no AWS console link
    assert code == 0
    output = out.getvalue()
    details = [line.split() for line in output.splitlines()[:6]]
    assert details == [["run", "run-b"], ["status", "RUNNING"], ["trigger", "schedule"],
                       ["execution", ARN], ["created", ANY, ANY], ["started", ANY, ANY]]  # fmt: skip
    assert rows(output)[1] == ["map", "batch-1", "RUNNING", "-", "0", "-", ""]


def test_show_an_unknown_run_exits_1(stack: dict, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("show", "nope") == (1, "")
    assert capsys.readouterr().err == (
        "aws-basic-batch-sls: no run 'nope' in stack's jobs table "
        "(`aws-basic-batch-sls runs` lists recent runs)\n"
    )


# -- errors and settings ------------------------------------------------------------------------------


def test_unknown_stack_and_a_stack_without_the_outputs(
    stack: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--stack", "nope", "runs"]) == 1
    assert capsys.readouterr().err == (
        f"aws-basic-batch-sls: no stack 'nope' in {REGION}: pass --stack NAME (or set "
        "SNAKEMAKE_AWS_BASIC_BATCH_SLS_STACK) and check --region\n"
    )
    boto3.client("cloudformation").create_stack(
        StackName="other", TemplateBody=json.dumps({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}})
    )
    assert main(["--stack", "other", "runs"]) == 1
    assert capsys.readouterr().err == (
        "aws-basic-batch-sls: stack 'other' has no Output JobsTableName: is it an aws-basic-batch-sls stack?\n"
    )


def test_the_stack_comes_from_the_plugins_environment_variable(
    stack: dict, runs: RunStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs.create("run-a", "schedule", None)
    monkeypatch.setenv("SNAKEMAKE_AWS_BASIC_BATCH_SLS_STACK", STACK)
    out = io.StringIO()

    assert main(["runs"], Console(file=out, width=250, color_system=None)) == 0
    assert rows(out.getvalue())[1][0] == "run-a"


def test_throttling_is_one_line(
    stack: dict, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def throttled(*_: Any, **__: Any) -> None:
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "Query")

    monkeypatch.setattr(RunStore, "recent", throttled)

    assert cli("runs") == (1, "")
    assert capsys.readouterr().err == (
        "aws-basic-batch-sls: AWS throttled Query (ThrottlingException) even after retries: "
        "try again in a minute\n"
    )


def test_no_credentials_and_no_region_are_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_DEFAULT_REGION", "AWS_REGION"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    assert main(["runs"]) == 1
    assert capsys.readouterr().err == (
        "aws-basic-batch-sls: no AWS region: pass --region or set SNAKEMAKE_AWS_BASIC_BATCH_SLS_REGION "
        "or AWS_DEFAULT_REGION\n"
    )
    assert main(["--region", REGION, "runs"]) == 1
    assert capsys.readouterr().err == (
        "aws-basic-batch-sls: no AWS credentials found: set AWS_PROFILE (or run `aws configure` / "
        "`aws sso login`), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\n"
    )


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["runs", "--limit", "0"])
    assert exit_info.value.code == 2
    assert "argument --limit: must be at least 1, not 0" in capsys.readouterr().err


def test_options_work_after_the_subcommand_too(stack: dict, runs: RunStore) -> None:
    runs.create("run-a", "schedule", None)
    out = io.StringIO()
    code = main(["runs", "--stack", STACK, "--limit", "5"], Console(file=out, width=250, color_system=None))
    assert code == 0 and "run-a" in out.getvalue()


def test_data_that_looks_like_rich_markup_is_printed_as_it_is(
    stack: dict, runs: RunStore, jobs: JobStore
) -> None:
    # GIVEN an upload key and a failure cause with square brackets (rich markup, if not escaped)
    runs.create("run-m", "s3://bucket/run-requests/[/x].yaml", None)
    runs.finish("run-m", RunStatus.FAILED, "bad [link=https://evil.example]click[/link] value", {})
    add_job(jobs, "run-m", "job-00000001", "[bold]rule[/bold]")

    listed, shown = cli("runs"), cli("show", "run-m")

    assert listed[0] == 0 and "s3://bucket/run-requests/[/x].yaml" in listed[1]
    assert shown[0] == 0
    assert "bad [link=https://evil.example]click[/link] value" in shown[1]
    assert "[bold]rule[/bold]" in shown[1]
