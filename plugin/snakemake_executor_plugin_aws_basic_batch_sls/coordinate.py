"""The coordinator Batch job's entry point: `python -m snakemake_executor_plugin_aws_basic_batch_sls.coordinate`.

The state machine starts it with the run request in SLS_RUN_REQUEST and the plugin's settings
(stack, run id) in the environment. It fetches the workflow when the request names an S3 archive
(else the workflow is bundled in the image, in the working directory), then runs
`snakemake --executor aws-basic-batch-sls ...` in normal mode: the plugin inside never starts another
coordinator. Its exit code is the job's, so the state machine sees success or failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from urllib.parse import urlparse

import boto3

from sls_contract.run_request import BUNDLED, RunRequest, snakemake_argv
from sls_contract.runs import RUN_REQUEST_ENV


def fetch_workflow(uri: str, into: Path) -> Path:
    """Download and unpack an s3:// .tar.gz / .tgz / .zip archive; returns the directory."""
    parsed = urlparse(uri)
    archive = into / Path(parsed.path).name
    boto3.client("s3").download_file(parsed.netloc, parsed.path.lstrip("/"), str(archive))
    target = into / "workflow"
    if archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as bundle:
            bundle.extractall(target)
    else:
        with tarfile.open(archive) as bundle:
            bundle.extractall(target, filter="data")
    return target


def main() -> int:
    request = RunRequest.model_validate_json(os.environ[RUN_REQUEST_ENV])
    workdir = Path.cwd()
    if request.workflow_source != BUNDLED:
        workdir = fetch_workflow(request.workflow_source, Path(tempfile.mkdtemp(prefix="workflow-")))
    command = [sys.executable, "-m", "snakemake", *snakemake_argv(request)]
    print("coordinator:", " ".join(command), f"(in {workdir})", flush=True)
    return subprocess.call(command, cwd=workdir)


if __name__ == "__main__":
    sys.exit(main())
