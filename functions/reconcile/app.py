"""Jobs whose records went quiet -> DescribeJobs -> the same monotonic update an event makes.

Invoked on a schedule (every non-terminal job with no news for RECONCILE_AFTER_SECONDS) and,
asynchronously, by the plugin for its own quiet jobs ({"run_id": ..., "job_ids": [...]})."""

import time
from datetime import UTC, datetime

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from sls_contract import metric_names
from sls_contract.job_record import ISO_FORMAT
from sls_contract.job_store import JobStore
from sls_contract.reconcile import ReconcileRequest, reconcile, stale_records
from sls_contract.settings import FunctionSettings

settings = FunctionSettings()
logger = Logger()
metrics = Metrics()
metrics.set_default_dimensions(**{metric_names.STACK_DIMENSION: settings.stack_name})
batch = boto3.client("batch")
store = JobStore(boto3.client("dynamodb"), settings.jobs_table_name, settings.record_ttl_days)


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    if "run_id" in event:
        request = ReconcileRequest.model_validate(event)
        logger.set_correlation_id(request.run_id)
        records = list(store.get_records(request.run_id, request.job_ids).values())
    else:
        cutoff = datetime.fromtimestamp(time.time() - settings.reconcile_after_seconds, UTC)
        records = stale_records(store, cutoff.strftime(ISO_FORMAT))
    summary = reconcile(store, batch, records)
    logger.info(
        "reconciled", extra={"checked": summary.checked, "updated": summary.updated, "lost": summary.lost}
    )
    # Every sweep reports all three, zeros included, so its alarm and graphs see each sweep.
    metrics.add_metric(name=metric_names.JOBS_CHECKED, unit=MetricUnit.Count, value=summary.checked)
    metrics.add_metric(name=metric_names.JOBS_RECONCILED, unit=MetricUnit.Count, value=summary.updated)
    metrics.add_metric(name=metric_names.JOBS_LOST, unit=MetricUnit.Count, value=len(summary.lost))
    return {"checked": summary.checked, "updated": summary.updated, "lost": summary.lost}
