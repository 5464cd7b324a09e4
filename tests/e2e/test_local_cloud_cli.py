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


def test_up_prints_the_environment_and_ctrl_c_stops_everything():
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
        assert "snakemake --jobs 10 --executor aws-basic-batch-sls" in text
        assert _port_open(port)
        started = _children(process.pid)
        assert started  # the Lambda workers
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    reader.join(timeout=10)
    assert process.returncode == 0
    assert not _port_open(port)
    assert {pid for pid in started if Path(f"/proc/{pid}").exists()} == set()
