"""``batch:submitJob.sync`` as AWS runs it: the service's own polling rides out a failed DescribeJobs,
and StopExecution (or a timeout) terminates the job.

moto's .sync loop fails the task on the first DescribeJobs error (worse: a 500 without a request id
crashes the execution with a KeyError that no Catch sees, leaving the run's record RUNNING), and
just stops polling when the execution stops, leaving the job running.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_batch import (
    StateTaskServiceBatch,
)
from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for

from sls_contract.batch_errors import is_transient

from .patches import Patches

logger = logging.getLogger(__name__)
REASON = "Step Functions execution stopped"


class _SyncResolver:
    """moto's .sync resolver (asked until the job has finished), with what to do once the execution
    has stopped."""

    def __init__(self, resolve: Callable[[], Any], terminate_if_stopped: Callable[[], None]) -> None:
        self._resolve = resolve
        self.terminate_if_stopped = terminate_if_stopped

    def __call__(self) -> Any:
        return self._resolve()


def install(patches: Patches) -> None:
    original_build = StateTaskServiceBatch._build_sync_resolver

    def build_sync_resolver(
        self: StateTaskServiceBatch, env: Any, resource_runtime_part: Any, normalised_parameters: dict,
        state_credentials: Any,
    ) -> Any:  # fmt: skip
        job_id = env.stack[-1]["JobId"]  # the SubmitJob response the original pops
        poll_once = original_build(self, env, resource_runtime_part, normalised_parameters, state_credentials)

        def resolve() -> Any:
            try:
                return poll_once()
            except ClientError as error:
                if not is_transient(error):
                    raise
                logger.warning("DescribeJobs for %s failed (%s); polling again", job_id, error)
                return None  # not finished yet: the loop asks again

        def terminate_if_stopped() -> None:
            if env.is_running():
                return
            client = boto_client_for(region=resource_runtime_part.region, service="batch")
            try:
                client.terminate_job(jobId=job_id, reason=REASON)
            except Exception:  # the job may be gone already
                logger.exception("could not terminate Batch job %s", job_id)

        return _SyncResolver(resolve, terminate_if_stopped)

    original_eval_sync = StateTaskServiceBatch._eval_sync

    def eval_sync(
        self: StateTaskServiceBatch, env: Any, sync_resolver: Any, *args: Any, **kwargs: Any
    ) -> Any:
        try:
            return original_eval_sync(self, env, sync_resolver, *args, **kwargs)
        finally:
            terminate = getattr(sync_resolver, "terminate_if_stopped", None)
            if terminate is not None:
                terminate()

    patches.replace(StateTaskServiceBatch, "_build_sync_resolver", build_sync_resolver)
    patches.replace(StateTaskServiceBatch, "_eval_sync", eval_sync)
