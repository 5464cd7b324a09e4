"""A child started through `interruptible` stops on SIGINT even when its parent ignores SIGINT, as a
background job of a non-interactive shell does (and so would every child started the plain way)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Ignores SIGINT as `cmd &` from a script would, then starts the same child the plain way and through
# `interruptible`: each waits for SIGINT, which the parent sends once the child says it is ready.
PARENT = """
import signal, subprocess, sys
from localcloud.interrupt import interruptible
signal.signal(signal.SIGINT, signal.SIG_IGN)
child = [sys.executable, "-c", "import sys, time; print('ready', flush=True); time.sleep(30)"]
for command in (child, interruptible(child)):
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "ready"
    process.send_signal(signal.SIGINT)
    try:
        print(process.wait(timeout=2))
    except subprocess.TimeoutExpired:
        process.kill()
        print("ignored", process.wait())
"""


def test_a_child_started_through_interruptible_stops_on_sigint_the_plain_one_does_not() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PARENT], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    ).stdout.split("\n")
    assert out[0].startswith("ignored")  # the plain child inherited SIGINT ignored
    assert out[1] == "-2"  # KeyboardInterrupt, after which Python ends itself by SIGINT
