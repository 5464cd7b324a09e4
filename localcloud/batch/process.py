"""Starting and killing a job attempt's process group (the local stand-in for its container)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path


def start_process(
    command: list[str], cwd: Path, env: dict[str, str], log_path: Path
) -> subprocess.Popen[bytes]:
    """Run ``command`` in its own session with stdout and stderr appended to ``log_path``."""
    with log_path.open("ab") as log:
        return subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    """Send ``sig`` to the whole process group of ``proc`` (ignore groups that are already gone)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the group and reap the leader."""
    signal_group(proc, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


def exit_code_of(returncode: int) -> int:
    """Docker's convention: a process killed by signal N exits 128 + N."""
    return 128 - returncode if returncode < 0 else returncode
