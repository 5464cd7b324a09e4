"""Run triggers (S3 upload of a run request, a "Run Requested" event, the schedule) -> one execution
of the coordinator state machine per run; a bad request becomes a FAILED run record with the reason."""

import dataclasses

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from sls_contract.run_store import RunStore
from sls_contract.runs import RunStarter
from sls_contract.settings import FunctionSettings

settings = FunctionSettings()
logger = Logger()
metrics = Metrics()
runs = RunStore(boto3.client("dynamodb"), settings.jobs_table_name, settings.record_ttl_days)
starter = RunStarter(boto3.client("s3"), boto3.client("stepfunctions"), runs, settings.state_machine_arn)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    outcome = starter.handle(event)
    logger.info("run trigger handled", extra=dataclasses.asdict(outcome))
    metrics.add_metric(
        name="RunStarted" if outcome.started else "RunNotStarted", unit=MetricUnit.Count, value=1
    )
    return dataclasses.asdict(outcome)
