"""`python -m localcloud demo|up`: the control plane on this machine, no AWS account needed."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import boto3
from rich.console import Console
from rich.table import Table

from sls_contract import stack_outputs

from .batch import BatchRuntimeConfig
from .cloud import DATA_BUCKET, LocalCloud
from .deploy import REPO_ROOT
from .endpoint import REGION
from .interrupt import interruptible
from .report import jobs_table, run_records

# Wide enough for full Batch job ids when output goes to a file or CI log rather than a terminal.
console = Console(width=None if sys.stdout.isatty() else 160)
DEMO_DIR = REPO_ROOT / "examples" / "demo"


def _start(args: argparse.Namespace, image_dir: Path | None = None) -> LocalCloud:
    # A stock job image: Snakemake ships the workflow's sources through the default storage. An image
    # directory stands for an image that bundles files (the aws-basic-batch plugin's way), if given.
    images = {"*": image_dir} if image_dir else {}
    cloud = LocalCloud(
        max_vcpus=args.vcpus,
        batch_config=BatchRuntimeConfig(image_dirs=images),
        dynamodb_process=args.dynamodb_process,
        port=args.port,
    )
    with console.status(
        "Starting the local cloud: moto on 127.0.0.1, stack from template.yaml, Lambda workers"
    ):
        started = time.monotonic()
        cloud.start()
    console.print(
        f"[green]Local cloud up[/] in {time.monotonic() - started:.1f} s at {cloud.endpoint.url} "
        f"(stack {cloud.stack_name}, {cloud.max_vcpus} vCPUs for Batch jobs)"
    )
    return cloud


def _run_to_end(command: list[str], cwd: Path, env: dict[str, str]) -> int:
    """Run a child; if we are stopped first (Ctrl-C, SIGTERM), stop it too and wait for it."""
    child = subprocess.Popen(interruptible(command), cwd=cwd, env=env)
    try:
        return child.wait()
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGINT)  # snakemake cancels its jobs on SIGINT
            try:
                child.wait(timeout=60)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def _exit_on_sigterm() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def demo(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="demo-workflow-"))
    shutil.copytree(DEMO_DIR, workdir, dirs_exist_ok=True)
    cloud = _start(args)
    try:
        run_id = "demo-" + time.strftime("%Y%m%dT%H%M%S")
        command = [
            sys.executable, "-m", "snakemake",
            *cloud.snakemake_args(f"s3://{DATA_BUCKET}/{run_id}"),
            "--aws-basic-batch-sls-run-id", run_id,
            "--jobs", str(args.jobs),
            "--seconds-between-status-checks", "1",
            "--config", f"samples={args.samples}",
            "--printshellcmds",
        ]  # fmt: skip
        console.rule(f"snakemake (run {run_id}): {args.samples * 2 + 2} jobs")
        console.print(" ".join(command[2:]), style="dim")
        env = {**os.environ, **cloud.client_env()}
        code = _run_to_end(command, workdir, env)
        console.rule("jobs recorded in DynamoDB")
        table = cloud.deployment.outputs[stack_outputs.JOBS_TABLE_NAME]
        records = run_records(cloud.client("dynamodb"), table, run_id)
        console.print(jobs_table(records, f"run {run_id}"))
        if code == 0:
            summary = cloud.client("s3").get_object(Bucket=DATA_BUCKET, Key=f"{run_id}/summary.txt")
            console.print(f"[green]Workflow succeeded[/]: s3://{DATA_BUCKET}/{run_id}/summary.txt = "
                          f"{summary['Body'].read().decode().strip()}")  # fmt: skip
        else:
            console.print(f"[red]Workflow failed[/] (snakemake exit code {code})")
        return code
    finally:
        with console.status("Stopping the local cloud"):
            cloud.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def snakemake_command(cloud: LocalCloud, storage_prefix: str) -> str:
    """The command `up` prints: one shell command, continued with backslashes, that runs as printed."""
    flags = [*cloud.snakemake_args(storage_prefix), "--jobs", "10", "--seconds-between-status-checks", "1"]
    pairs = [" ".join(flags[i : i + 2]) for i in range(0, len(flags), 2)]
    return " \\\n  ".join(["snakemake", *pairs])


def up(args: argparse.Namespace) -> int:
    cloud = _start(args, Path(args.image_dir).resolve() if args.image_dir else None)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        console.print("\n[bold]In another shell, in your workflow's directory:[/]")
        console.print(f". {REPO_ROOT / '.venv' / 'bin' / 'activate'}", highlight=False)
        console.print(f"export PYTHONPATH={REPO_ROOT}", highlight=False)
        for name, value in cloud.client_env().items():
            console.print(f"export {name}={value}", highlight=False)
        console.print(
            "# inputs no rule makes go under the storage prefix first, e.g.: python -m localcloud upload data/",
            highlight=False,
        )
        console.print(snakemake_command(cloud, f"s3://{DATA_BUCKET}/my-run"), highlight=False, soft_wrap=True)
        console.print(
            "\nJobs get your workflow from the default storage (Snakemake's source deployment): any "
            f"directory with a Snakefile runs as it is. Inputs and outputs live under s3://{DATA_BUCKET}/my-run.",
            highlight=False,
        )
        console.print(
            f"Follow runs: aws-basic-batch-sls --endpoint-url {cloud.endpoint.url} show RUN_ID",
            highlight=False,
        )
        console.print(outputs_table(cloud.deployment.outputs))
        console.print("[dim]Ctrl-C stops the local cloud and everything it started.[/]")
        stop.wait()
        return 0
    finally:
        with console.status("Stopping the local cloud"):
            cloud.stop()


def outputs_table(outputs: dict[str, str]) -> Table:
    table = Table(title="stack outputs", show_header=False)
    for name, value in sorted(outputs.items()):
        table.add_row(name, str(value))
    return table


def upload(args: argparse.Namespace) -> int:
    """Copy workflow inputs into the running local cloud's S3, under the storage prefix, keeping their
    paths relative to this directory (data/a.txt -> PREFIX/data/a.txt, where Snakemake looks for it)."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        console.print(
            "[red]AWS_ENDPOINT_URL is not set[/]: paste the lines `make local-cloud` printed into this shell first"
        )
        return 2
    if not args.to.startswith("s3://"):
        console.print(f"[red]--to {args.to}[/]: give the storage prefix, e.g. s3://{DATA_BUCKET}/my-run")
        return 2
    bucket, _, prefix = args.to.removeprefix("s3://").partition("/")
    files = [
        f for path in map(Path, args.paths) for f in ([path] if path.is_file() else sorted(path.rglob("*")))
    ]
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=os.environ.get("AWS_DEFAULT_REGION", REGION))
    sent = 0
    for file in (f for f in files if f.is_file()):
        relative = os.path.relpath(file.resolve(), Path.cwd())
        if relative.startswith(".."):
            console.print(
                f"[red]{file}[/] is outside this directory: run upload from your workflow's directory"
            )
            return 2
        s3.upload_file(str(file), bucket, "/".join(p for p in (prefix.strip("/"), relative) if p))
        sent += 1
    console.print(f"uploaded {sent} file(s) to {args.to.rstrip('/')}/", highlight=False)
    return 0


def _cloud_options(defaults: bool) -> argparse.ArgumentParser:
    """Options of the cloud itself: accepted before or after the subcommand (on the subcommand without
    defaults, argparse.SUPPRESS, so they do not overwrite a value given before it)."""
    options = argparse.ArgumentParser(add_help=False)

    def default(value: object) -> object:
        return value if defaults else argparse.SUPPRESS

    options.add_argument(
        "--vcpus",
        type=int,
        default=default(os.cpu_count() or 2),
        help="vCPUs of the local Batch compute environment (default: this machine's cores); a job "
        "asking for more can never start",
    )
    options.add_argument(
        "--port",
        type=int,
        default=default(None),
        help="port of the endpoint on 127.0.0.1 (default: a free one; fix it to keep exported "
        "variables valid across restarts)",
    )
    options.add_argument(
        "--dynamodb-process",
        action="store_true",
        default=default(False),
        help="serve DynamoDB from a moto process of its own (faster with hundreds of jobs; clients "
        "must honour AWS_ENDPOINT_URL_DYNAMODB, which `up` prints)",
    )
    return options


def main(argv: list[str] | None = None) -> int:
    _exit_on_sigterm()
    parser = argparse.ArgumentParser(
        prog="python -m localcloud", description=__doc__, parents=[_cloud_options(defaults=True)]
    )
    common = [_cloud_options(defaults=False)]
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "demo", parents=common, help="run examples/demo through the full path and print its jobs"
    )
    run.add_argument("--samples", type=int, default=8)
    run.add_argument("--jobs", type=int, default=20)
    keep = sub.add_parser("up", parents=common, help="keep a local cloud running and print how to use it")
    keep.add_argument(
        "--image-dir",
        help="a directory the jobs' 'image' holds, copied into every job's working directory (not "
        "needed: Snakemake ships your workflow's sources; use it to mimic an image with bundled files)",
    )
    send = sub.add_parser("upload", help="copy input files into the running local cloud's S3")
    send.add_argument("paths", nargs="+", metavar="PATH", help="files or directories, relative to here")
    send.add_argument("--to", default=f"s3://{DATA_BUCKET}/my-run", help="the run's storage prefix")
    args = parser.parse_args(argv)
    return {"demo": demo, "up": up, "upload": upload}[args.command](args)
