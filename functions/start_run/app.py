"""Run triggers (S3 upload of a run request, a "Run Requested" event, the schedule) -> one execution
of the coordinator state machine per run; a bad request becomes a FAILED run record with the reason."""

import dataclasses

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from sls_contract import metric_names
from sls_contract.run_store import RunStore
from sls_contract.runs import RunStarter
from sls_contract.settings import FunctionSettings

settings = FunctionSettings()
logger = Logger()
metrics = Metrics()
metrics.set_default_dimensions(**{metric_names.STACK_DIMENSION: settings.stack_name})
runs = RunStore(boto3.client("dynamodb"), settings.jobs_table_name, settings.record_ttl_days)
starter = RunStarter(boto3.client("s3"), boto3.client("stepfunctions"), runs, settings.state_machine_arn)


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    outcome = starter.handle(event)
    logger.set_correlation_id(outcome.run_id)
    logger.info("run trigger handled", extra=dataclasses.asdict(outcome))
    metrics.add_metric(
        name=metric_names.RUN_STARTED if outcome.started else metric_names.RUN_NOT_STARTED,
        unit=MetricUnit.Count,
        value=1,
    )
    return dataclasses.asdict(outcome)
