"""Where the control plane is: resolved from the stack's Outputs and explicit settings, checked at start."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, overload

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import TypeAdapter, ValidationError
from snakemake_interface_common.exceptions import WorkflowError

from sls_contract import stack_outputs
from sls_contract.errors import describe_validation_error
from sls_contract.spec import Secret
from sls_contract.tags import parse_tag_string

from .aws_errors import describe_aws_error

if TYPE_CHECKING:
    from botocore.client import BaseClient
    from mypy_boto3_batch import BatchClient
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_stepfunctions import SFNClient

SETTING_PREFIX = "--aws-basic-batch-sls-"
_RETRIES = Config(retries={"mode": "standard", "max_attempts": 10})
# The AWS services the plugin and the operator CLI call.
Service = Literal["batch", "cloudformation", "dynamodb", "events", "lambda", "logs", "sqs", "stepfunctions"]


@dataclass(frozen=True)
class ControlPlane:
    region: str
    queue_url: str
    jobs_table: str
    job_queue: str
    job_definition: str
    dead_letter_queue_url: str | None
    endpoint_url: str | None
    task_timeout: int | None
    tags: dict[str, str]
    secrets: tuple[Secret, ...]
    status_grace_seconds: int
    state_machine_arn: str | None = None
    reconcile_function: str | None = None
    reconcile_after_seconds: int = 300
    runnable_warning_seconds: int = 600
    array_min_size: int = 10


class Clients:
    """boto3 clients for one region / endpoint, created once."""

    def __init__(self, region: str | None, endpoint_url: str | None, config: Config = _RETRIES) -> None:
        self.session = boto3.session.Session(region_name=region)
        self.endpoint_url = endpoint_url
        self.config = config
        self._clients: dict[str, Any] = {}

    @overload
    def __call__(self, service: Literal["batch"]) -> BatchClient: ...
    @overload
    def __call__(self, service: Literal["cloudformation"]) -> CloudFormationClient: ...
    @overload
    def __call__(self, service: Literal["dynamodb"]) -> DynamoDBClient: ...
    @overload
    def __call__(self, service: Literal["events"]) -> EventBridgeClient: ...
    @overload
    def __call__(self, service: Literal["lambda"]) -> LambdaClient: ...
    @overload
    def __call__(self, service: Literal["logs"]) -> CloudWatchLogsClient: ...
    @overload
    def __call__(self, service: Literal["sqs"]) -> SQSClient: ...
    @overload
    def __call__(self, service: Literal["stepfunctions"]) -> SFNClient: ...

    def __call__(self, service: Service) -> Any:
        if service not in self._clients:
            client = self.session.client(service, endpoint_url=self.endpoint_url, config=self.config)
            if self.endpoint_url and service_endpoint_env(client) in os.environ:
                # AWS's documented precedence: a service's own endpoint (AWS_ENDPOINT_URL_<SERVICE>)
                # wins over the global one, which is what the endpoint_url setting is.
                client = self.session.client(service, config=self.config)
            self._clients[service] = client
        return self._clients[service]


def service_endpoint_env(client: BaseClient) -> str:
    """The environment variable botocore reads for this service's own endpoint."""
    return "AWS_ENDPOINT_URL_" + client.meta.service_model.service_id.replace(" ", "_").upper()


def read_stack_outputs(clients: Clients, stack: str) -> dict[str, str]:
    """The stack's Outputs by key, for the plugin and the CLI; each words AWS errors its own way."""
    stacks = clients("cloudformation").describe_stacks(StackName=stack)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}


def _stack_outputs(clients: Clients, stack: str) -> dict[str, str]:
    try:
        return read_stack_outputs(clients, stack)
    except (ClientError, BotoCoreError) as exc:
        raise WorkflowError(
            f"cannot read the stack {stack!r}: {describe_aws_error(exc, SETTING_PREFIX)}"
        ) from exc


def _parse_secrets(text: str | None) -> tuple[Secret, ...]:
    if not text:
        return ()
    try:
        return tuple(TypeAdapter(list[Secret]).validate_json(text))
    except ValidationError as exc:
        raise WorkflowError(
            f"{SETTING_PREFIX}secrets must be a JSON list of "
            '{"name": ENV_NAME, "valueFrom": SECRET_OR_PARAMETER_ARN}: '
            f"{describe_validation_error(exc)}"
        ) from exc


def resolve(settings: Any) -> tuple[ControlPlane, Clients]:
    """Settings -> ControlPlane; every missing or wrong value is a WorkflowError saying what to set."""
    clients = Clients(settings.region, settings.endpoint_url)
    outputs = _stack_outputs(clients, settings.stack) if settings.stack else {}
    region = settings.region or outputs.get(stack_outputs.REGION) or clients.session.region_name
    if region != clients.session.region_name:
        clients = Clients(region, settings.endpoint_url)
    values = {
        "queue_url": settings.queue_url or outputs.get(stack_outputs.JOBS_QUEUE_URL),
        "jobs_table": settings.jobs_table or outputs.get(stack_outputs.JOBS_TABLE_NAME),
        "job_queue": settings.job_queue or outputs.get(stack_outputs.JOB_QUEUE_ARN),
        "job_definition": settings.job_definition or outputs.get(stack_outputs.JOB_DEFINITION_ARN),
    }
    located = {name: value for name, value in values.items() if value}
    missing = [name for name in values if name not in located]
    if not region:
        missing.insert(0, "region")
    if missing:
        flags = ", ".join(SETTING_PREFIX + name.replace("_", "-") for name in missing)
        raise WorkflowError(
            f"aws-basic-batch-sls does not know where its control plane is: set {SETTING_PREFIX}stack "
            f"to the deployed stack's name, or set {flags}"
        )
    if settings.task_timeout is not None and settings.task_timeout < 60:
        raise WorkflowError(
            f"{SETTING_PREFIX}task-timeout is {settings.task_timeout}; AWS Batch needs at least 60 seconds"
        )
    if settings.reconcile_after_seconds < 5:
        raise WorkflowError(f"{SETTING_PREFIX}reconcile-after-seconds must be at least 5")
    if settings.runnable_warning_seconds < 1:
        raise WorkflowError(f"{SETTING_PREFIX}runnable-warning-seconds must be at least 1")
    if settings.array_min_size == 1 or settings.array_min_size < 0:
        raise WorkflowError(
            f"{SETTING_PREFIX}array-min-size is {settings.array_min_size}: an AWS Batch array has at least "
            "2 jobs; give 2 or more, or 0 to submit every job on its own"
        )
    if settings.status_grace_seconds < 10:
        raise WorkflowError(f"{SETTING_PREFIX}status-grace-seconds must be at least 10")
    try:
        tags = parse_tag_string(settings.tags)
    except ValueError as exc:
        raise WorkflowError(f"{SETTING_PREFIX}tags: {exc}") from exc
    plane = ControlPlane(
        region=region,
        dead_letter_queue_url=outputs.get(stack_outputs.JOBS_DLQ_URL),
        endpoint_url=settings.endpoint_url,
        task_timeout=settings.task_timeout,
        tags=tags,
        secrets=_parse_secrets(settings.secrets),
        status_grace_seconds=settings.status_grace_seconds,
        state_machine_arn=outputs.get(stack_outputs.COORDINATOR_STATE_MACHINE_ARN),
        reconcile_function=outputs.get(stack_outputs.RECONCILE_FUNCTION_NAME),
        reconcile_after_seconds=settings.reconcile_after_seconds,
        runnable_warning_seconds=settings.runnable_warning_seconds,
        array_min_size=settings.array_min_size,
        **located,
    )
    check_reachable(plane, clients)
    return plane, clients


def check_reachable(plane: ControlPlane, clients: Clients) -> None:
    """Fail at start, not at the first job, when the queue or table is wrong or not allowed."""
    try:
        clients("sqs").get_queue_attributes(QueueUrl=plane.queue_url, AttributeNames=["QueueArn"])
    except (ClientError, BotoCoreError) as exc:
        raise WorkflowError(
            f"cannot use the jobs queue {plane.queue_url} ({exc}); check {SETTING_PREFIX}queue-url / "
            f"{SETTING_PREFIX}stack and that your credentials allow sqs:SendMessage on it"
        ) from exc
    try:
        clients("dynamodb").describe_table(TableName=plane.jobs_table)
    except (ClientError, BotoCoreError) as exc:
        raise WorkflowError(
            f"cannot use the jobs table {plane.jobs_table} ({exc}); check {SETTING_PREFIX}jobs-table / "
            f"{SETTING_PREFIX}stack and that your credentials allow dynamodb:Query on it"
        ) from exc
