"""pipe() outputs: refused before any job is sent, with what to write instead, because Snakemake would hang
the Batch job (the last test shows it doing so); what the refusal suggests runs as one Batch job."""

import os
import signal
import subprocess
import sys
import threading
import uuid

import pytest

from localcloud.cloud import DATA_BUCKET
from sls_contract.status import JobStatus
from tests.support.polling import wait_until

pytestmark = pytest.mark.e2e


def test_a_pipe_output_is_refused_before_any_job_naming_the_rule_and_the_fix(driver):
    run = driver.run("pipe.smk")
    assert run.returncode != 0
    assert run.records == []  # nothing was sent, nothing left running
    assert "aws-basic-batch-sls cannot run this workflow:" in run.output
    assert "rule produce: output pipe('piped/numbers.txt') would hang its Batch job" in run.output
    assert "temp('piped/numbers.txt', group_jobs=True)" in run.output


def test_the_suggested_node_local_temp_file_runs_the_group_as_one_batch_job(driver):
    run = driver.run("node_local.smk")
    assert run.returncode == 0, run.output[-4000:]
    [record] = run.records
    assert (record.rule, record.group, record.status) == ("consume,produce", "stream", JobStatus.SUCCEEDED)
    s3 = driver.cloud.client("s3")
    count = s3.get_object(Bucket=DATA_BUCKET, Key=f"{run.run_id}/piped/count.txt")["Body"].read()
    assert count.decode().strip() == "5"
    listed = s3.list_objects_v2(Bucket=DATA_BUCKET, Prefix=f"{run.run_id}/piped/numbers.txt")
    assert listed["KeyCount"] == 0  # temp: gone from storage, if it was ever there


def test_snakemake_itself_hangs_a_remote_job_on_a_pipe_in_storage(driver):
    """Why the refusal exists: the command a Batch job runs for pipe.smk's group (Snakemake in remote mode,
    as any remote executor starts it) runs both rules, then blocks uploading the FIFO. When a Snakemake
    release stops doing that, this test fails: then the refusal (plugin/.../streams.py) can go."""
    prefix = f"s3://{DATA_BUCKET}/{driver.new_run_id()}"
    command = [
        sys.executable, "-m", "snakemake", "--snakefile", "pipe.smk",
        "--target-jobs", "produce:", "consume:", "--allowed-rules", "consume", "produce",
        "--local-groupid", str(uuid.uuid4()), "--cores", "all", "--attempt", "1", "--force",
        "--target-files-omit-workdir-adjustment", "--max-inventory-time", "0", "--nocolor", "--no-hooks",
        "--nolock", "--ignore-incomplete", "--shared-fs-usage", "none",
        "--default-storage-provider", "s3", "--default-storage-prefix", prefix,
        "--storage-s3-endpoint-url", driver.cloud.endpoint.url, "--mode", "remote",
    ]  # fmt: skip
    workdir = driver.workflows / f"job-{uuid.uuid4().hex[:8]}"  # a Batch job's own working directory
    workdir.mkdir()
    (workdir / "pipe.smk").write_text((driver.workflows / "pipe.smk").read_text())
    process = subprocess.Popen(
        command, cwd=workdir, env=driver.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()
    try:
        storing = f"Storing in storage: {prefix}/piped/numbers.txt"
        wait_until(lambda: any(storing in line for line in lines), 180, "Snakemake storing the pipe")
        assert any("Finished jobid" in line and "consume" in line for line in lines)  # both rules ran
        with pytest.raises(subprocess.TimeoutExpired):
            process.wait(timeout=15)  # and it is still reading the FIFO
        after = lines[next(i for i, line in enumerate(lines) if storing in line) :]
        assert not any("Finished upload" in line for line in after)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def test_a_pipe_rule_a_checkpoint_adds_is_refused_before_its_jobs_are_sent(driver):
    run = driver.run("pipe_after_checkpoint.smk")
    assert run.returncode != 0
    assert [(r.rule, r.status) for r in run.records] == [("split", JobStatus.SUCCEEDED)]
    assert "aws-basic-batch-sls cannot submit:" in run.output
    assert "rule produce: output pipe('piped/{i}.numbers') would hang its Batch job" in run.output
