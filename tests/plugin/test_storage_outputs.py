"""What the main Snakemake process does with a finished job's storage outputs: directory outputs
re-checked, checkpoint outputs prefetched into the jobs whose input functions read them."""

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest

from localcloud.endpoint import CREDENTIALS, MotoEndpoint
from snakemake_executor_plugin_aws_basic_batch_sls.storage_outputs import (
    CheckpointOutput,
    forget_stale_directory_state,
    prefetch_command,
)


def _input_function(wildcards):
    return []


def job(wildcards=None, inputs=(), outputs=(), members=None):
    """Stand-in for Snakemake's job objects: only the attributes this module reads."""
    if members is not None:
        return SimpleNamespace(is_group=lambda: True, jobs=members)
    return SimpleNamespace(
        is_group=lambda: False,
        wildcards_dict=wildcards or {},
        rule=SimpleNamespace(input=list(inputs)),
        output=list(outputs),
    )


def storage_output(is_directory, cached):
    return SimpleNamespace(
        is_storage=True, is_directory=is_directory, storage_object=SimpleNamespace(_is_dir=cached)
    )


def test_a_cached_false_is_dir_is_forgotten_on_directory_outputs_only():
    stale = storage_output(True, False)
    known = storage_output(True, True)
    plain_file = storage_output(False, False)
    group = job(members=[job(outputs=[stale, plain_file]), job(outputs=[known])])
    assert forget_stale_directory_state(group) == 1
    assert stale.storage_object._is_dir is None
    assert (known.storage_object._is_dir, plain_file.storage_object._is_dir) == (True, False)


SPLIT = CheckpointOutput("s3://bucket/run/parts", ".snakemake/storage/s3/bucket/run/parts", (), None)
PER_SAMPLE = CheckpointOutput(
    "s3://bucket/run/A/list.txt", ".snakemake/storage/s3/bucket/run/A/list.txt", (("sample", "A"),), None
)


def test_only_jobs_with_input_functions_prefetch_and_only_agreeing_checkpoints():
    assert prefetch_command(job({"sample": "A"}, inputs=["x.txt"]), [SPLIT, PER_SAMPLE]) == ""
    assert prefetch_command(job({"sample": "A"}, inputs=[_input_function]), []) == ""
    for_a = prefetch_command(job({"sample": "A"}, inputs=[_input_function]), [SPLIT, PER_SAMPLE])
    for_b = prefetch_command(job({"sample": "B"}, inputs=[_input_function]), [SPLIT, PER_SAMPLE])
    assert "s3://bucket/run/parts" in for_a and "s3://bucket/run/A/list.txt" in for_a
    assert "s3://bucket/run/parts" in for_b and "list.txt" not in for_b


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoEndpoint]:
    endpoint = MotoEndpoint().start()
    yield endpoint
    endpoint.stop()


def test_the_prefetch_command_downloads_a_directory_and_a_file_in_a_shell(moto, tmp_path: Path):
    # GIVEN a checkpoint's directory output (plus a sibling prefix that is not part of it) and a file
    env = {**os.environ, **moto.client_env()}
    s3 = boto3.session.Session(**{k.lower(): v for k, v in CREDENTIALS.items()}).client(
        "s3", endpoint_url=moto.url, region_name="us-east-1"
    )
    s3.create_bucket(Bucket="bucket")
    for key in ("run/parts/1.txt", "run/parts/sub/2 two.txt", "run/parts-other/no.txt", "run/A/list.txt"):
        s3.put_object(Bucket="bucket", Key=key, Body=key.encode())
    outputs = [
        CheckpointOutput(q, local, (), moto.url)
        for q, local in ((SPLIT.query, SPLIT.local), (PER_SAMPLE.query, PER_SAMPLE.local))
    ]
    # WHEN the job's shell runs the command
    command = prefetch_command(job({"sample": "A"}, inputs=[_input_function]), outputs, "python")
    subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, check=True, timeout=60)
    # THEN exactly the checkpoint's objects are in Snakemake's local storage copies
    local = tmp_path / ".snakemake/storage/s3/bucket/run"
    found = sorted(str(p.relative_to(local)) for p in local.rglob("*") if p.is_file())
    assert found == ["A/list.txt", "parts/1.txt", "parts/sub/2 two.txt"]
    assert (local / "parts/sub/2 two.txt").read_text() == "run/parts/sub/2 two.txt"
