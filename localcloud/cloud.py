"""The whole local cloud as one context manager: endpoint, Batch runtime, stack, Lambda workers."""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

import boto3

from sls_contract import stack_outputs

from . import dynamodb_server
from .deploy import Deployment, deploy
from .dynamodb_server import DynamoDBServer
from .endpoint import REGION, MotoEndpoint
from .lambda_runtime import DEFAULT_MAX_CONCURRENCY, LambdaRuntime

if TYPE_CHECKING:
    from mypy_boto3_batch import BatchClient
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_stepfunctions import SFNClient

DEFAULT_STACK = "aws-basic-batch-sls"
DATA_BUCKET = "localcloud-data"
# The services the local cloud serves that its users (the CLI, the benchmark, tests) ask clients for.
Service = Literal["batch", "cloudformation", "dynamodb", "events", "lambda", "s3", "sqs", "stepfunctions"]


class LocalCloud:
    def __init__(
        self,
        workdir: Path | None = None,
        stack_name: str = DEFAULT_STACK,
        max_vcpus: int | None = None,
        batch_config: Any = None,
        retry_delay: int = 2,
        port: int | None = None,
        sqs_duplicate_rate: float = 0.0,
        seed: int = 0,
        lambda_max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        dynamodb_process: bool = False,
        jobs_queue_deliveries: int = 1,
    ) -> None:
        # Fault knob: every jobs-queue message handled this many times, the copies concurrently.
        self.jobs_queue_deliveries = jobs_queue_deliveries
        # Lambda workers per SQS-mapped function: the template's concurrency, capped by this knob.
        self.lambda_max_concurrency = lambda_max_concurrency
        self.sqs_duplicate_rate = sqs_duplicate_rate
        self.seed = seed
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="localcloud-"))
        self.stack_name = stack_name
        self.max_vcpus = max_vcpus or os.cpu_count() or 2
        self.batch_config = batch_config
        self.retry_delay = retry_delay
        self.endpoint = MotoEndpoint(port)
        # DynamoDB in a moto process of its own (see dynamodb_server): for load, as in the benchmark.
        self.dynamodb = (
            DynamoDBServer(self.workdir / "dynamodb-server.log", other_port=self.endpoint.port)
            if dynamodb_process
            else None
        )
        self._saved_env: dict[str, str | None] = {}
        self._deployment: Deployment | None = None
        self._lambdas: LambdaRuntime | None = None
        self.batch: Any = None
        self.integrations: Any = None  # localcloud.integrations: SFN/EventBridge targets, Lambda Invoke

    # -- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> LocalCloud:
        # This process's own boto3 clients (and moto's Step Functions integrations, via MOTO_PORT)
        # talk to the local cloud while it runs; stop() puts the environment back as it was.
        names = [*self.endpoint.client_env(), dynamodb_server.ENDPOINT_ENV, "MOTO_PORT"]
        self._saved_env = {name: os.environ.get(name) for name in names}
        try:
            self.endpoint.start()
            if self.dynamodb is not None:
                self.dynamodb.start()
            os.environ.pop(dynamodb_server.ENDPOINT_ENV, None)
            os.environ.update(self.client_env())
            self.batch = self._install_batch()
            deployment = self._deployment = deploy(self.session(), self.stack_name, self.max_vcpus)
            if self.dynamodb is not None:
                self._move_tables(self.dynamodb)
            self.session().client("s3").create_bucket(Bucket=DATA_BUCKET)
            lambdas = self._lambdas = LambdaRuntime(
                deployment,
                self.client_env(),
                self.workdir / "lambda",
                self.retry_delay,
                duplicate_rate=self.sqs_duplicate_rate,
                seed=self.seed,
                max_concurrency=self.lambda_max_concurrency,
                deliveries={
                    deployment.outputs[stack_outputs.SUBMIT_FUNCTION_NAME]: self.jobs_queue_deliveries
                },
            )
            lambdas.start()
            self.integrations = self._install_integrations()
        except BaseException:
            self.stop()
            raise
        return self

    def _install_batch(self) -> Any:
        from .batch.config import BatchRuntimeConfig
        from .batch.runtime import install

        config = self.batch_config or BatchRuntimeConfig()
        return install(dataclasses.replace(config, **self._batch_overrides(config)))

    def _batch_overrides(self, config: Any) -> dict[str, Any]:
        bin_dir = str(Path(sys.executable).parent)
        return {
            "work_root": self.workdir / "batch",
            "base_env": {
                **config.base_env,
                **self.client_env(),
                "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
            },
        }

    def _install_integrations(self) -> Any:
        from .integrations import install

        return install(self.deployment, self.client_env(), self.workdir / "lambda-invoke")

    def _move_tables(self, server: DynamoDBServer) -> None:
        cfn = self.client("cloudformation")
        tables = [
            r["PhysicalResourceId"]
            for r in cfn.list_stack_resources(StackName=self.stack_name)["StackResourceSummaries"]
            if r.get("ResourceType") == "AWS::DynamoDB::Table"
        ]
        main = self.session().client("dynamodb", endpoint_url=self.endpoint.url)
        server.move_tables(main, self.client("dynamodb"), tables)

    def stop(self) -> None:
        if self._deployment is not None:
            self._stop_executions()
        if self.integrations is not None:
            self.integrations.stop()
        if self._lambdas:
            self._lambdas.stop()
        if self.batch is not None:
            self.batch.stop()
        if self.dynamodb is not None:
            self.dynamodb.stop()
        self.endpoint.stop()
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _stop_executions(self) -> None:
        """Stop state machine executions still running: moto runs them on threads of this process,
        which outlive the cloud and would carry on (retries, clean-up steps) against the next one."""
        try:
            sfn = self.client("stepfunctions")
            for machine in sfn.list_state_machines()["stateMachines"]:
                running = sfn.list_executions(
                    stateMachineArn=machine["stateMachineArn"], statusFilter="RUNNING"
                )
                for execution in running["executions"]:
                    sfn.stop_execution(
                        executionArn=execution["executionArn"], cause="the local cloud stopped"
                    )
        except Exception:  # stopping must go on whatever state the endpoint is in
            logging.getLogger(__name__).exception("could not stop the running state machine executions")

    @property
    def deployment(self) -> Deployment:
        """The deployed stack (its outputs, function code): there is one while the cloud runs."""
        if self._deployment is None:
            raise RuntimeError("the local cloud has not deployed its stack: start() it first")
        return self._deployment

    @property
    def lambdas(self) -> LambdaRuntime:
        """The Lambda workers: there are some while the cloud runs."""
        if self._lambdas is None:
            raise RuntimeError("the local cloud runs no Lambda workers: start() it first")
        return self._lambdas

    def __enter__(self) -> LocalCloud:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what clients need --------------------------------------------------------------------------

    def client_env(self) -> dict[str, str]:
        """What a process needs in its environment to use this local cloud with boto3."""
        env = self.endpoint.client_env()
        if self.dynamodb is not None:
            env[dynamodb_server.ENDPOINT_ENV] = self.dynamodb.url
        return env

    def endpoint_url(self, service: str) -> str:
        if service == "dynamodb" and self.dynamodb is not None:
            return self.dynamodb.url
        return self.endpoint.url

    def session(self) -> boto3.session.Session:
        env = self.endpoint.client_env()
        return boto3.session.Session(
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            region_name=REGION,
        )

    @overload
    def client(self, service: Literal["batch"]) -> BatchClient: ...
    @overload
    def client(self, service: Literal["cloudformation"]) -> CloudFormationClient: ...
    @overload
    def client(self, service: Literal["dynamodb"]) -> DynamoDBClient: ...
    @overload
    def client(self, service: Literal["events"]) -> EventBridgeClient: ...
    @overload
    def client(self, service: Literal["lambda"]) -> LambdaClient: ...
    @overload
    def client(self, service: Literal["s3"]) -> S3Client: ...
    @overload
    def client(self, service: Literal["sqs"]) -> SQSClient: ...
    @overload
    def client(self, service: Literal["stepfunctions"]) -> SFNClient: ...

    def client(self, service: Service) -> Any:
        return self.session().client(service, endpoint_url=self.endpoint_url(service))

    def snakemake_args(self, storage_prefix: str) -> list[str]:
        """Flags that point `snakemake --executor aws-basic-batch-sls` at this local cloud."""
        return [
            "--executor", "aws-basic-batch-sls",
            "--aws-basic-batch-sls-stack", self.stack_name,
            "--aws-basic-batch-sls-region", REGION,
            "--aws-basic-batch-sls-endpoint-url", self.endpoint.url,
            "--default-storage-provider", "s3",
            "--default-storage-prefix", storage_prefix,
            "--storage-s3-endpoint-url", self.endpoint.url,
        ]  # fmt: skip
