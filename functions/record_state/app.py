"""Batch "Batch Job State Change" events (buffered in SQS) -> conditional updates of job records."""

import time
from functools import partial

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from sls_contract import metric_names
from sls_contract.job_store import JobStore
from sls_contract.recorder import EventBatch, Recorded
from sls_contract.settings import FunctionSettings

settings = FunctionSettings()
logger = Logger()
metrics = Metrics()
metrics.set_default_dimensions(**{metric_names.STACK_DIMENSION: settings.stack_name})
processor = BatchProcessor(event_type=EventType.SQS)
store = JobStore(boto3.client("dynamodb"), settings.jobs_table_name, settings.record_ttl_days)


def record_handler(record: SQSRecord, delivery: EventBatch) -> None:
    result = delivery.record(store, record.message_id, record.body)
    logger.set_correlation_id(result.keys[0] if result.keys else None)
    logger.info(
        "state change handled",
        extra={"outcome": result.outcome, "keys": result.keys, "status": result.status},
    )
    metrics.add_metric(name=metric_names.EVENT_OUTCOMES[result.outcome], unit=MetricUnit.Count, value=1)
    if result.outcome != Recorded.APPLIED or result.event is None:
        return
    lag = result.event.age_ms(time.time())
    if lag is not None:
        metrics.add_metric(name=metric_names.EVENT_TO_RECORD_LAG, unit=MetricUnit.Milliseconds, value=lag)
    finished = metric_names.JOBS_FINISHED.get(result.event.detail.status)
    if finished:
        metrics.add_metric(name=finished, unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    # Parse the whole delivery first, so a job's events but its latest cost no write.
    # A malformed record is left out here and fails on its own in record_handler.
    delivery = EventBatch.of(
        (r["messageId"], r["body"])
        for r in event.get("Records", [])
        if isinstance(r, dict) and isinstance(r.get("messageId"), str) and isinstance(r.get("body"), str)
    )
    return process_partial_response(
        event=event,
        record_handler=partial(record_handler, delivery=delivery),
        processor=processor,
        context=context,
    )
