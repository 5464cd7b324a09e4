"""The executor: specs to SQS in batches, states from DynamoDB, cancel through the control plane."""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from collections.abc import AsyncGenerator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from snakemake.common import get_container_image
from snakemake_interface_common.exceptions import WorkflowError
from snakemake_interface_executor_plugins.executors.base import SubmittedJobInfo
from snakemake_interface_executor_plugins.executors.remote import RemoteExecutor
from snakemake_interface_executor_plugins.jobs import JobExecutorInterface

from sls_contract.arrays import child_items
from sls_contract.batch_errors import ACCESS_DENIED_CODES
from sls_contract.cancel import cancel_run
from sls_contract.errors import InvalidJobSpec, PermanentSubmitError
from sls_contract.fargate import check_fargate_pair
from sls_contract.job_definitions import JobDefinitions
from sls_contract.job_record import RUN_ID_ENV
from sls_contract.job_store import JobStore
from sls_contract.limits import BATCH_DESCRIBE_JOBS_MAX as DESCRIBE_JOBS_MAX
from sls_contract.run_store import RunStore
from sls_contract.spec import JobSpec
from sls_contract.status import TERMINAL, JobStatus
from sls_contract.tags import job_tags

from . import handover
from .array_plan import ArrayJob, plan_arrays
from .config import resolve
from .environment import split_environment
from .foreign_settings import foreign_settings
from .job_identity import identify
from .messages import failed_rules, failure_message, log_quote, log_tail
from .overdue import queue_positions, settle_overdue
from .own_run import OwnRun
from .resources import Defaults, ResourceError, build_spec, distinct, spec_fields
from .run_id import new_run_id
from .sender import SEND_CONCURRENCY, SpecTooLarge, encode, send_specs
from .start_checks import nothing_to_do, start_problems
from .status_reader import StatusReader
from .storage_outputs import (
    CheckpointOutput,
    forget_stale_directory_state,
    prefetch_command,
    retrieve_checkpoint_outputs,
)
from .streams import job_rules, stream_problems
from .waiting import long_waits

# Consecutive status rounds that may fail to read the table before the run gives up loudly.
MAX_FAILED_ROUNDS = 10
# Failed jobs of a run whose log the plugin reads to quote the error (and name a group's failed rule).
FAILED_LOGS_READ = 50


def _user_container_image(workflow: Any) -> str | None:
    """Snakemake's --container-image, unless it is Snakemake's own default (which it always sets).

    Jobs run the job definition's image unless the user named another one.
    """
    image = getattr(workflow.remote_execution_settings, "container_image", None)
    return image if image and image != get_container_image() else None


class Executor(RemoteExecutor):
    # The record of a run this process drives itself (None inside a coordinator job).
    own_run: OwnRun | None = None

    def __post_init__(self) -> None:
        settings = self.workflow.executor_settings
        self.plane, self.clients = resolve(settings)
        # Inside a coordinator job the run id comes from the environment the control plane set.
        self.run_id = settings.run_id or os.environ.get(RUN_ID_ENV) or new_run_id()
        self.store = JobStore(self.clients("dynamodb"), self.plane.jobs_table)
        self.reader = StatusReader(self.store, self.run_id)
        self.definitions = JobDefinitions(self.clients("batch"), derived_prefix="unused")
        self.workflow_name = os.path.basename(os.path.dirname(os.path.abspath(self.workflow.main_snakefile)))
        self.defaults = Defaults(
            job_queue=self.plane.job_queue,
            job_definition=self.plane.job_definition,
            task_timeout=self.plane.task_timeout,
            secrets=self.plane.secrets,
            container_image=_user_container_image(self.workflow),
        )
        for warning in foreign_settings(sys.argv, os.environ):
            self.logger.warning(f"aws-basic-batch-sls: {warning}")
        self._sent_any = False
        self._queued: set[str] = set()  # ids of the specs sent that had no record yet at the last hand-off
        self._environment: dict[str, str] | None = None
        self._checkpoint_outputs: list[CheckpointOutput] = []
        self._warned_waiting: set[str] = set()
        self._failed_rounds = 0
        self._failed_logs_read = 0
        problems = start_problems(self.workflow, self.defaults, self._storage_prefix())
        if problems:
            raise WorkflowError("aws-basic-batch-sls cannot run this workflow:\n" + "\n".join(problems))
        if nothing_to_do(self.workflow):
            return  # Snakemake says "Nothing to be done" and never calls shutdown: no run to record
        if settings.coordinator and RUN_ID_ENV not in os.environ:
            self._hand_over_to_coordinator(settings)
        # Inside a coordinator job the state machine keeps the run's record; otherwise this run does.
        if RUN_ID_ENV not in os.environ:
            runs = RunStore(self.clients("dynamodb"), self.plane.jobs_table)
            self.own_run = OwnRun(runs, self.store, self.run_id, self.logger)
            self.own_run.begin(self.workflow_name)
        self.logger.info(
            f"aws-basic-batch-sls: run {self.run_id}; jobs queue {self.plane.queue_url}; "
            f"states from table {self.plane.jobs_table}"
        )

    def _hand_over_to_coordinator(self, settings: Any) -> None:
        """Start the run on the stack's state machine, say where to follow it, and end this process.

        SystemExit(0) unwinds through Snakemake's own context managers (lock release, cleanup), so
        nothing is skipped; inside the coordinator job SLS_RUN_ID is set and this never runs.
        """
        request = handover.run_request(self.workflow, settings, self.run_id, self.plane.tags)
        outcome = handover.start(self.plane, self.clients, request)
        if not outcome.started:
            raise WorkflowError(f"run {outcome.run_id} was not started: {outcome.reason}")
        where = (
            handover.console_url(self.plane.region, outcome.execution_arn or "")
            if not self.plane.endpoint_url
            else f"aws-basic-batch-sls --endpoint-url {self.plane.endpoint_url} show {outcome.run_id}"
        )
        self.logger.info(
            f"aws-basic-batch-sls: started run {outcome.run_id} on the coordinator state machine\n"
            f"  execution: {outcome.execution_arn}\n  follow it: {where}\n"
            f"  status: aws-basic-batch-sls show {outcome.run_id}\nYou can disconnect now."
        )
        raise SystemExit(0)

    # -- submission ---------------------------------------------------------------------------------

    def job_environment(self) -> dict[str, str]:
        if self._environment is None:
            self._environment, withheld = split_environment(self.envvars())
            if withheld:
                self.logger.warning(
                    f"aws-basic-batch-sls: not passing {', '.join(withheld)} to Batch jobs: they look "
                    "like credentials and would be readable in plaintext in DescribeJobs and in every "
                    "state-change event. Jobs use their job role on AWS; pass real secrets with "
                    "aws_batch_secrets or --aws-basic-batch-sls-secrets."
                )
        return self._environment

    def _check_platform(self, spec: JobSpec, label: str) -> None:
        try:
            fargate = self.definitions.is_fargate(spec.job_definition)
        except PermanentSubmitError as exc:
            if exc.code in ACCESS_DENIED_CODES:
                return  # not allowed to look; the submit function checks the same rule
            raise ResourceError(f"rule {label}: resource aws_batch_job_definition: {exc}") from exc
        if fargate:
            try:
                check_fargate_pair(spec.vcpu, spec.memory_mib)
            except InvalidJobSpec as exc:
                raise ResourceError(
                    f"rule {label}: resources aws_batch_vcpu / aws_batch_mem_mb (or threads / "
                    f"mem_mb) on Fargate job definition {spec.job_definition}: {exc}"
                ) from exc

    def _storage_prefix(self) -> str | None:
        return getattr(self.workflow.storage_settings, "default_storage_prefix", None)

    def job_spec(self, job: JobExecutorInterface) -> JobSpec:
        who = identify(job)
        streams = stream_problems(job_rules(job), self._storage_prefix())  # rules a checkpoint added
        if streams:
            raise ResourceError("\n".join(streams))
        # job.resources is a Namedlist: iterating it yields values, so keys() is needed.
        resources = {name: job.resources.get(name) for name in job.resources.keys()}  # noqa: SIM118
        job_id = uuid.uuid4().hex
        label = who.label.removeprefix("rule ")
        fields = spec_fields(label, job.threads, resources, self.defaults, job_id, who.name_part)
        fields.update(
            run_id=self.run_id,
            job_id=job_id,
            workflow=self.workflow_name,
            rule=who.rule,
            group=who.group,
            snakemake_jobid=job.jobid,
            command=["/bin/bash", "-c", self.format_job_exec(job)],
            environment=self.job_environment(),
            tags=job_tags(self.plane.tags, self.run_id, who.rule, self.workflow_name),
        )
        spec = build_spec(label, fields, resources)
        self._check_platform(spec, label)
        return spec

    def get_job_exec_prefix(self, job: JobExecutorInterface) -> str:
        # A job's input functions may read checkpoint outputs from disk: download them first.
        return prefetch_command(job, self._checkpoint_outputs, self.get_python_executable())

    def run_job(self, job: JobExecutorInterface) -> None:
        self.run_jobs([job])

    def run_jobs(self, jobs: list[JobExecutorInterface]) -> None:
        """Validate every job first (nothing is sent if one is wrong), then send in batches."""
        specs: list[tuple[JobExecutorInterface, JobSpec]] = []
        problems: list[str] = []
        for job in jobs:
            try:
                specs.append((job, self.job_spec(job)))
            except ResourceError as exc:
                problems.append(str(exc))
        if problems:
            message = "aws-basic-batch-sls cannot submit:\n" + "\n".join(distinct(problems))
            self._note_failure(message)
            raise WorkflowError(message)
        try:  # every job's spec within SQS's size; the bodies are sent as they are when a job goes alone
            bodies = {spec.job_id: (spec, body) for spec, body in encode([spec for _, spec in specs])}
        except SpecTooLarge as exc:
            raise WorkflowError(str(exc)) from exc
        # Snakemake's job block (rule, files, wildcards, `message:`), as the base class's run_jobs prints it
        for job, _spec in specs:
            self.run_job_pre(job)
        self._sent_any = True
        job_of = {spec.job_id: job for job, spec in specs}
        singles, arrays = plan_arrays(
            [spec for _, spec in specs],
            self.plane.array_min_size,
            self.get_python_executable(),
            self.plane.region,
        )
        # (job, the id its record has, the spec on the queue that submits it)
        tracked = [(job_of[spec.job_id], spec.job_id, spec) for spec in singles]
        for array in arrays:
            if self._write_children(array):
                tracked += [
                    (job_of[member.job_id], child.job_id, array.spec)
                    for member, child in zip(array.members, array.children, strict=True)
                ]
            else:
                tracked += [(job_of[member.job_id], member.job_id, member) for member in array.members]
        to_send = list({spec.job_id: spec for _, _, spec in tracked}.values())
        encoded = [bodies.get(spec.job_id) or encode([spec])[0] for spec in to_send]  # arrays: their own
        ahead = queue_positions(self._queued, self.reader.latest, [spec.job_id for spec in to_send])
        refused = send_specs(self.clients("sqs"), self.plane.queue_url, encoded)
        sent_at = time.time()
        for job, job_id, spec in tracked:
            info = SubmittedJobInfo(
                job=job,
                external_jobid=job_id,
                aux={"sent_at": sent_at, "job_name": spec.job_name, "queued_ahead": ahead[spec.job_id]},
            )
            if spec.job_id in refused:
                self._report_error(info, msg=f"SQS refused the job spec: {refused[spec.job_id]}")
            else:
                self.report_job_submission(info)

    def _write_children(self, array: ArrayJob) -> bool:
        """The array's child records and commands into the table; False (the jobs then go one by one)
        if DynamoDB would not take them."""
        try:
            items = child_items(array.children, array.spec.job_id, self.store.ttl_seconds)
            self.store.put_items(items, concurrency=SEND_CONCURRENCY)
        except (ClientError, BotoCoreError) as exc:
            self.logger.warning(
                f"aws-basic-batch-sls: could not write the {len(array.children)} jobs of an array of rule "
                f"{array.spec.rule} to {self.plane.jobs_table} ({exc}); submitting them one by one"
            )
            return False
        self.logger.info(
            f"aws-basic-batch-sls: {len(array.children)} jobs of rule {array.spec.rule} go to Batch as "
            f"one array job ({array.spec.job_name})"
        )
        return True

    # -- status -------------------------------------------------------------------------------------

    async def check_active_jobs(
        self, active_jobs: list[SubmittedJobInfo]
    ) -> AsyncGenerator[SubmittedJobInfo, None]:
        if not active_jobs:
            # Nothing to ask about. (Also: Snakemake's status thread starts before __post_init__.)
            return
        async with self.status_rate_limiter:
            try:
                self.reader.refresh()
                self._failed_rounds = 0
            except (ClientError, BotoCoreError) as exc:
                self._failed_rounds += 1
                if self._failed_rounds >= MAX_FAILED_ROUNDS:
                    raise WorkflowError(
                        f"cannot read job states from {self.plane.jobs_table} for "
                        f"{self._failed_rounds} rounds: {exc}"
                    ) from exc
                self.logger.warning(f"aws-basic-batch-sls: reading job states failed ({exc}); retrying")
                for job_info in active_jobs:
                    yield job_info
                return
        waits = long_waits(
            (
                self.reader.latest[j.external_jobid]
                for j in active_jobs
                if j.external_jobid in self.reader.latest
            ),
            self.plane.runnable_warning_seconds,
            self._warned_waiting,
        )
        if waits:
            self.logger.warning(f"aws-basic-batch-sls: {waits}")
        settle_overdue(self.store, self.reader, self.plane, active_jobs)
        self._reconcile_quiet([j.external_jobid for j in active_jobs])
        for job_info in active_jobs:
            record = self.reader.latest.get(job_info.external_jobid)
            if record is None:
                yield job_info
            elif record.status == JobStatus.SUCCEEDED:
                self._note_outcome(job_info, ok=True)
                forget_stale_directory_state(job_info.job)
                try:
                    self._checkpoint_outputs.extend(await retrieve_checkpoint_outputs(job_info.job))
                except WorkflowError as exc:  # Snakemake's storage layer wraps the plugin's errors
                    self._report_error(
                        job_info, msg=f"checkpoint outputs could not be retrieved from storage: {exc}"
                    )
                    continue
                self.report_job_success(job_info)
            elif record.status == JobStatus.FAILED:
                lines = self._failed_log(record)
                failed = failed_rules(lines) if record.group else None
                self._report_error(
                    job_info, msg=failure_message(self.plane, record, failed, log_quote(lines))
                )
            else:
                yield job_info

    def _failed_log(self, record: Any) -> list[str]:
        """The end of a failed job's log, for the first FAILED_LOGS_READ failures of the run (one
        GetLogEvents each; past those, a run failing wholesale is not slowed by reading every log)."""
        if not record.log_stream or self._failed_logs_read >= FAILED_LOGS_READ:
            return []
        self._failed_logs_read += 1
        return log_tail(self.clients("logs"), record)

    def _note_outcome(self, job_info: SubmittedJobInfo, ok: bool) -> None:
        if self.own_run is not None:
            self.own_run.job_finished(job_info.job.jobid, identify(job_info.job).label, ok)

    def _note_failure(self, message: str) -> None:
        if self.own_run is not None:
            self.own_run.failure = message.splitlines()[-1][:1000]

    def _report_error(self, job_info: SubmittedJobInfo, msg: str) -> None:
        self._note_outcome(job_info, ok=False)
        if job_info.job.is_group():
            # Snakemake prints a group job's error without the executor's message (GroupJob.log_error
            # drops it in 9.x): say it here, or the user would never see why the group failed.
            self.logger.error(f"aws-basic-batch-sls: group job {job_info.job.groupid}: {msg}")
        self.report_job_error(job_info, msg=msg)

    def _reconcile_quiet(self, job_ids: list[str]) -> None:
        """Ask the stack's reconcile function (asynchronously) about jobs whose records went quiet."""
        if not self.plane.reconcile_function:
            return
        quiet = self.reader.quiet(job_ids, self.plane.reconcile_after_seconds)
        if quiet:
            # A final update the index showed too late for the incremental read is found here; only
            # what is still live is worth asking Batch about (the reconciler skips final records).
            found = self.reader.read_consistently(quiet)
            quiet = [j for j in quiet if j not in found or found[j].status not in TERMINAL]
        for start in range(0, len(quiet), DESCRIBE_JOBS_MAX):
            payload = {"run_id": self.run_id, "job_ids": quiet[start : start + DESCRIBE_JOBS_MAX]}
            try:
                self.clients("lambda").invoke(
                    FunctionName=self.plane.reconcile_function,
                    InvocationType="Event",
                    Payload=json.dumps(payload),
                )
            except (ClientError, BotoCoreError) as exc:
                self.logger.warning(f"aws-basic-batch-sls: could not ask for a check of quiet jobs: {exc}")
                return
        if quiet:
            self.logger.info(
                f"aws-basic-batch-sls: {len(quiet)} job(s) without news for "
                f"{self.plane.reconcile_after_seconds} s: asked the control plane to check them with Batch"
            )

    # -- cancel -------------------------------------------------------------------------------------

    def cancel_jobs(self, active_jobs: list[SubmittedJobInfo]) -> None:
        if self.own_run is not None:
            self.own_run.cancelled = True
        if not self._sent_any:
            return  # nothing was sent (e.g. a resource error stopped the run first): nothing to cancel
        reason = f"run {self.run_id} cancelled by Snakemake"
        summary = cancel_run(self.store, self.clients("batch"), self.run_id, reason)
        self.logger.info(
            f"aws-basic-batch-sls: cancelled run {self.run_id}: terminated {len(summary.terminated)} "
            f"Batch jobs; {len(summary.never_submitted)} queued specs will not be submitted"
        )
        for error in summary.errors:
            self.logger.warning(f"aws-basic-batch-sls: could not terminate {error}")

    # -- end --------------------------------------------------------------------------------------

    def shutdown(self) -> None:
        super().shutdown()
        if self.own_run is not None:
            # Snakemake's scheduler knows of failures no executor call reports (outputs missing after
            # a job, say); it keeps that in a private flag, read with a default.
            self.own_run.finish(scheduler_failed=bool(getattr(self.workflow.scheduler, "_errors", False)))
