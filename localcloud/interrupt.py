"""Start a child that SIGINT (Ctrl-C) stops, whatever this process's own SIGINT disposition.

POSIX: a command a non-interactive shell starts in the background (``cmd &``, a CI step, a script)
begins with SIGINT ignored, and an ignored signal stays ignored across fork and exec; Python then
installs no KeyboardInterrupt handler. Snakemake started from such a process would neither stop nor
cancel its Batch jobs on the SIGINT sent to ask it to. A handler (Python's own included) reverts to
the default on exec, so only the ignored case needs this.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

_RESTORE_AND_EXEC = "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])"


def interruptible(command: Sequence[str]) -> list[str]:
    """``command``, run through a step that puts SIGINT back to its default before exec'ing it."""
    return [sys.executable, "-c", _RESTORE_AND_EXEC, *command]
