"""Can a job ever start on its queue? A job asking for more vCPUs than any compute environment of its
job queue can hold, or for GPUs on a queue of Fargate environments only, stays RUNNABLE forever on
AWS Batch (the classic trap). The submit function asks before SubmitJob and records such a job FAILED
with the reason instead.

DescribeJobQueues + DescribeComputeEnvironments, cached per queue for the life of the function. Where
the answer cannot be known (an UNMANAGED environment, no permission to look, an error), nothing is
refused: the job is submitted as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_batch import BatchClient


@dataclass(frozen=True)
class QueueLimits:
    queue: str
    max_vcpus: float  # the largest maxvCpus among the queue's compute environments
    gpus: bool  # some environment can have GPUs (EC2 / SPOT); Fargate has none


class QueueCapacity:
    def __init__(self, batch: BatchClient) -> None:
        self.batch = batch
        self._limits: dict[str, QueueLimits | None] = {}

    def limits(self, job_queue: str) -> QueueLimits | None:
        if job_queue not in self._limits:
            try:
                self._limits[job_queue] = self._describe(job_queue)
            except (ClientError, BotoCoreError):
                return None  # not cached: a throttled or denied look is not an answer
        return self._limits[job_queue]

    def _describe(self, job_queue: str) -> QueueLimits | None:
        queues = self.batch.describe_job_queues(jobQueues=[job_queue])["jobQueues"]
        if not queues:
            return None  # SubmitJob will say the queue does not exist
        order = queues[0].get("computeEnvironmentOrder", [])
        arns = [entry["computeEnvironment"] for entry in order]
        if not arns:
            return None
        environments = self.batch.describe_compute_environments(computeEnvironments=arns)
        described = [env.get("computeResources") for env in environments["computeEnvironments"]]
        resources = [r for r in described if r is not None and "maxvCpus" in r]
        if len(described) != len(arns) or len(resources) != len(described):
            return None  # an UNMANAGED environment (or one we could not see): its capacity is unknown
        return QueueLimits(
            queue=queues[0].get("jobQueueName", job_queue),
            max_vcpus=max(float(r["maxvCpus"]) for r in resources),
            gpus=any(r.get("type") in ("EC2", "SPOT") for r in resources),
        )

    def problem(self, job_queue: str, vcpu: float, gpu: int) -> str | None:
        """Why a job asking for this can never start on the queue, or None."""
        limits = self.limits(job_queue)
        if limits is None:
            return None
        if vcpu > limits.max_vcpus:
            return (
                f"the job asks for {vcpu:g} vCPUs but the compute environments of job queue {limits.queue} "
                f"hold at most {limits.max_vcpus:g} (maxvCpus): it would wait in RUNNABLE forever. Lower the "
                "rule's threads / aws_batch_vcpu, or route it (aws_batch_job_queue) to a queue with a larger "
                "compute environment"
            )
        if gpu and not limits.gpus:
            return (
                f"the job asks for {gpu} GPU(s) but job queue {limits.queue} has only Fargate compute "
                "environments, which have no GPUs: route it (aws_batch_job_queue) to an EC2 queue with GPU "
                "instances"
            )
        return None
