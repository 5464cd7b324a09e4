"""The coordinator state machine's steps (register, succeeded, failed) and the clean-up after an
execution is aborted or times out ("Step Functions Execution Status Change")."""

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from sls_contract.run_store import RunStore
from sls_contract.runs import Lifecycle, dispatch
from sls_contract.settings import FunctionSettings
from sls_contract.store import JobStore

settings = FunctionSettings()
logger = Logger()
metrics = Metrics()
dynamodb = boto3.client("dynamodb")
lifecycle = Lifecycle(
    RunStore(dynamodb, settings.jobs_table_name, settings.record_ttl_days),
    JobStore(dynamodb, settings.jobs_table_name, settings.record_ttl_days),
    boto3.client("batch"),
    boto3.client("events"),
    settings.stack_name,
)


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    result = dispatch(lifecycle, event)
    logger.info("run lifecycle step", extra={"result": result})
    return result
