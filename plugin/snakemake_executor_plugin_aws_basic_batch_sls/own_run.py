"""The run record of a run this plugin drives itself (snakemake on a laptop or in CI), so that
`aws-basic-batch-sls runs` lists it beside the coordinator's runs: RUNNING when the executor starts,
SUCCEEDED / FAILED / ABORTED with job counts when it shuts down. A run with nothing to do writes none.

Inside a coordinator job the state machine owns the run's record, and this writes nothing. Writing the
record needs dynamodb:UpdateItem on the jobs table (as Ctrl-C's cancel mark does); without it the run
goes on and the record is missing, with a warning.
"""

from __future__ import annotations

import getpass
import socket
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from sls_contract.job_store import JobStore
from sls_contract.run_record import RunStatus
from sls_contract.run_store import RunStore, job_counts


def trigger_text(workflow: str) -> str:
    """Who started the run, from where: shown in the `runs` table's trigger column."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "?"
    return f"snakemake {workflow} ({user}@{socket.gethostname()})"


class OwnRun:
    def __init__(self, runs: RunStore, jobs: JobStore, run_id: str, logger: Any) -> None:
        self.runs, self.jobs, self.run_id, self.logger = runs, jobs, run_id, logger
        self.cancelled = False
        self.failure: str | None = None  # an error of the executor itself
        self._outcomes: dict[Any, tuple[str, bool]] = {}  # Snakemake job id -> (label, last attempt ok)

    def begin(self, workflow: str) -> None:
        try:
            if not self.runs.begin(self.run_id, trigger_text(workflow)):
                self.logger.warning(
                    f"aws-basic-batch-sls: run {self.run_id} has already finished once; its record is kept"
                )
        except (ClientError, BotoCoreError) as exc:
            self.logger.warning(f"aws-basic-batch-sls: the run will not be listed by `runs`: {exc}")

    def job_finished(self, jobid: Any, label: str, ok: bool) -> None:
        """The last word on each Snakemake job: a retry that succeeds replaces an earlier failure."""
        self._outcomes[jobid] = (label, ok)

    def outcome(self, scheduler_failed: bool) -> tuple[RunStatus, str | None]:
        if self.cancelled:
            return RunStatus.ABORTED, "cancelled (Ctrl-C or aws-basic-batch-sls cancel)"
        failed = sorted({label for label, ok in self._outcomes.values() if not ok})
        if failed:
            return RunStatus.FAILED, f"{len(failed)} failed: {', '.join(failed)}"[:1000]
        if self.failure or scheduler_failed:
            return RunStatus.FAILED, self.failure or "Snakemake reported an error (see its log)"
        return RunStatus.SUCCEEDED, None

    def finish(self, scheduler_failed: bool) -> None:
        status, cause = self.outcome(scheduler_failed)
        try:
            counts = job_counts(self.jobs.run_jobs(self.run_id))
            self.runs.finish(self.run_id, status, cause, counts)
        except (ClientError, BotoCoreError) as exc:
            self.logger.warning(f"aws-basic-batch-sls: could not record the end of run {self.run_id}: {exc}")
