"""`python -m localcloud up`: prints how to use it, and Ctrl-C leaves no process and no open port."""

import os
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.support.polling import wait_until

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def _children(pid: int) -> set[int]:
    """Every descendant process id (from /proc)."""
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            children = (task / "children").read_text().split() if (task / "children").exists() else []
            for child in map(int, children):
                if child not in found:
                    found.add(child)
                    todo.append(child)
    return found


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


# The commands README's "Run your own workflow locally" tells a user to type (tests/plugin/test_docs.py
# checks they are there), run here around the lines `up` prints.
README_STEPS = ("python -m localcloud upload data/", "aws-basic-batch-sls runs")

SNAKEFILE = """
rule all:
    input: "b.txt"

rule a:
    input: "data/greeting.txt"
    output: "a.txt"
    group: "g"
    shell: "cat {input} > {output}"

rule b:
    input: "a.txt"
    output: "b.txt"
    group: "g"
    shell: "tr a-z A-Z < {input} > {output}"
"""


def _printed_commands(text: str) -> str:
    """The shell lines `up` prints under 'In another shell', as a script."""
    block = text.split("In another shell", 1)[1].split("\n", 1)[1]
    lines = []
    for line in block.splitlines():
        if not (
            line.startswith((". ", "export ", "#", "snakemake", "  --"))
            or (lines and lines[-1].endswith("\\"))
        ):
            break
        lines.append(line)
    return "\n".join(lines)


def test_up_prints_the_environment_and_ctrl_c_stops_everything(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "localcloud", "up"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()
    try:
        wait_until(lambda: any("Ctrl-C stops" in line for line in lines), 240, "the local cloud to be up")
        text = "".join(lines)
        port = int(re.search(r"export AWS_ENDPOINT_URL=http://127\.0\.0\.1:(\d+)", text).group(1))
        assert _port_open(port)
        started = _children(process.pid)
        assert started  # the Lambda workers
        assert "QueuePolicy" not in text and "<moto." not in text  # no moto noise, no object reprs
        # The printed commands run as printed, in a new shell, on a workflow no job image contains.
        (tmp_path / "Snakefile").write_text(SNAKEFILE)
        (tmp_path / "data").mkdir()
        (tmp_path / "data" / "greeting.txt").write_text("hello\n")
        printed = _printed_commands(text)
        assert "--seconds-between-status-checks" in printed
        # README, "Run your own workflow locally": upload the inputs, run, then follow it with the CLI.
        exports, snakemake = printed.split("\nsnakemake", 1)
        script = "\n".join(
            [
                exports,
                "python -m localcloud upload data/",
                "snakemake" + snakemake,
                "aws-basic-batch-sls runs",
            ]
        )
        clean_env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "VIRTUAL_ENV"))}
        run = subprocess.run(
            ["bash", "-c", script], cwd=tmp_path, env=clean_env, capture_output=True, text=True, timeout=300
        )
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
        assert "Finished jobid" in run.stderr
        assert "uploaded 1 file(s) to s3://localcloud-data/my-run/" in run.stdout
        assert "SUCCEEDED" in run.stdout and "snakemake " in run.stdout  # `runs` lists the run
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    reader.join(timeout=10)
    assert process.returncode == 0
    assert not _port_open(port)
    assert {pid for pid in started if Path(f"/proc/{pid}").exists()} == set()
