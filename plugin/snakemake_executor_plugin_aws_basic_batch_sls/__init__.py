"""Snakemake executor plugin: AWS Batch through a serverless control plane, without polling Batch.

Job specs go to an SQS queue; Lambda functions submit them to Batch and record every job's state
from Batch's own events in DynamoDB; this plugin reads those records.
"""

from dataclasses import dataclass, field
from typing import Optional

from snakemake_interface_executor_plugins.settings import CommonSettings, ExecutorSettingsBase

from .executor import Executor

__all__ = ["Executor", "ExecutorSettings", "common_settings"]


def _setting(help: str, env_var: bool = True) -> dict:
    return {"help": help, "env_var": env_var, "required": False}


@dataclass
class ExecutorSettings(ExecutorSettingsBase):
    stack: Optional[str] = field(
        default=None,
        metadata=_setting(
            "Name of the deployed aws-basic-batch-sls CloudFormation stack. Its Outputs give the "
            "jobs queue, jobs table, default job queue and job definition and region, so this one "
            "setting is enough; the settings below override single values."
        ),
    )
    region: Optional[str] = field(
        default=None, metadata=_setting("AWS region (default: the stack's, else boto3's).")
    )
    queue_url: Optional[str] = field(
        default=None, metadata=_setting("URL of the stack's SQS jobs queue (Output JobsQueueUrl).")
    )
    jobs_table: Optional[str] = field(
        default=None, metadata=_setting("Name of the stack's DynamoDB jobs table (Output JobsTableName).")
    )
    job_queue: Optional[str] = field(
        default=None,
        metadata=_setting("Default AWS Batch job queue (name or ARN); per rule: aws_batch_job_queue."),
    )
    job_definition: Optional[str] = field(
        default=None,
        metadata=_setting(
            "Default AWS Batch job definition (name or ARN); per rule: aws_batch_job_definition."
        ),
    )
    task_timeout: Optional[int] = field(
        default=None,
        metadata=_setting("Default job timeout in seconds (>= 60); per rule: aws_batch_task_timeout."),
    )
    tags: Optional[str] = field(
        default=None,
        metadata=_setting(
            "Tags for every job, 'key=value,key2=value2'. Run id, rule and workflow tags are added."
        ),
    )
    secrets: Optional[str] = field(
        default=None,
        metadata=_setting(
            'Secrets for every job, JSON list of {"name": ENV_NAME, "valueFrom": ARN} '
            "(Secrets Manager or SSM); merged with per-rule aws_batch_secrets, per-rule wins."
        ),
    )
    endpoint_url: Optional[str] = field(
        default=None,
        metadata=_setting("AWS endpoint URL for every service (the local cloud); unset on AWS."),
    )
    status_grace_seconds: int = field(
        default=300,
        metadata=_setting(
            "Seconds a submitted job may go without any record before it is reported failed "
            "(the spec may be stuck or on the dead-letter queue)."
        ),
    )
    coordinator: bool = field(
        default=False,
        metadata=_setting(
            "Run the whole workflow in AWS instead: start the stack's coordinator state machine "
            "(Snakemake itself as a Batch job, supervised by Step Functions), print the run id and "
            "exit. Your terminal can disconnect."
        ),
    )
    coordinator_workflow_source: Optional[str] = field(
        default=None,
        metadata=_setting(
            "With coordinator: where the coordinator finds the workflow: 'bundled' (in its image, "
            "the default) or an s3://bucket/key.tar.gz|.tgz|.zip archive it downloads."
        ),
    )
    reconcile_after_seconds: int = field(
        default=300,
        metadata=_setting(
            "A running job whose record has not changed for this long is checked with Batch by the "
            "stack's reconcile function (in case its state-change events were lost)."
        ),
    )
    runnable_warning_seconds: int = field(
        default=600,
        metadata=_setting(
            "Warn about jobs that have waited in RUNNABLE this long (Batch has no room for them yet: "
            "busy compute environments, or sizes no instance type of the queue offers)."
        ),
    )
    array_min_size: int = field(
        default=10,
        metadata=_setting(
            "Ready jobs of one rule with the same resources are submitted as one AWS Batch array job "
            "when there are at least this many (at most 10,000 a job): one SubmitJob instead of one per "
            "job. 0 turns array jobs off. Each child reads its command from the jobs table, so the "
            "job role needs dynamodb:GetItem on it."
        ),
    )
    run_id: Optional[str] = field(
        default=None,
        metadata=_setting("Run id to file jobs under (default: generated per Snakemake invocation)."),
    )


common_settings = CommonSettings(
    # Jobs run in AWS Batch, not on this machine.
    non_local_exec=True,
    # Batch containers share no file system with this machine: inputs and outputs go through storage.
    implies_no_shared_fs=True,
    # Snakemake uploads the workflow's sources to the default storage and each job fetches them, so a
    # stock image (Python, Snakemake, the S3 storage plugin) runs any workflow; an image that bundles
    # the workflow keeps working.
    job_deploy_sources=True,
    # Jobs must reach the same default storage (S3) as this process.
    pass_default_storage_provider_args=True,
    pass_default_resources_args=True,
    # Environment goes into SubmitJob's containerOverrides (filtered), not into the command line.
    pass_envvar_declarations_to_cmd=False,
    # The storage plugin is part of the job image; installing it per job with pip is slow and fragile.
    auto_deploy_default_storage_provider=False,
    # Records appear as soon as the submit function runs; no reason to wait before the first check.
    init_seconds_before_status_checks=0,
)
