"""The coordinator state machine's steps (register, succeeded, failed) and the clean-up after an
execution is aborted or times out ("Step Functions Execution Status Change")."""

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from sls_contract import metric_names
from sls_contract.job_store import JobStore
from sls_contract.run_store import RunStore
from sls_contract.runs import Lifecycle, dispatch, run_id_of
from sls_contract.settings import FunctionSettings

settings = FunctionSettings()
logger = Logger()
metrics = Metrics()
metrics.set_default_dimensions(**{metric_names.STACK_DIMENSION: settings.stack_name})
dynamodb = boto3.client("dynamodb")
lifecycle = Lifecycle(
    RunStore(dynamodb, settings.jobs_table_name, settings.record_ttl_days),
    JobStore(dynamodb, settings.jobs_table_name, settings.record_ttl_days),
    boto3.client("batch"),
    boto3.client("events"),
    settings.stack_name,
)


_LOGGED = ("run_id", "status", "cause", "recorded", "terminated", "not_terminated", "job_counts", "job_name")


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    logger.set_correlation_id(run_id_of(event))
    result = dispatch(lifecycle, event)
    # Names and outcomes only: the result of "register" holds the whole run request (its config),
    # which has no business in a log kept for as long as the log group keeps it.
    logger.info("run lifecycle step", extra={k: result[k] for k in _LOGGED if k in result})
    # A failure the run's record already had (the machine's clean-up, then the status change) counts once.
    finished = metric_names.RUN_FINISHED.get(result.get("status", ""))
    if finished and result.get("recorded", True):
        metrics.add_metric(name=finished, unit=MetricUnit.Count, value=1)
    return result
