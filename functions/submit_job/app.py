"""SQS jobs queue -> AWS Batch SubmitJob, one spec per record, partial batch failures reported."""

import time

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
from botocore.config import Config

from sls_contract import metric_names
from sls_contract.errors import InvalidJobSpec
from sls_contract.job_definitions import JobDefinitions
from sls_contract.job_store import JobStore
from sls_contract.settings import FunctionSettings
from sls_contract.spec import parse_job_spec
from sls_contract.submitter import Outcome, Submitter, record_unusable_message

settings = FunctionSettings()
logger = Logger()
metrics = Metrics()
metrics.set_default_dimensions(**{metric_names.STACK_DIMENSION: settings.stack_name})
processor = BatchProcessor(event_type=EventType.SQS)
# Adaptive retries ride out short throttling inside one invocation; what remains goes back to SQS.
batch = boto3.client("batch", config=Config(retries={"mode": "adaptive", "max_attempts": 4}))
store = JobStore(boto3.client("dynamodb"), settings.jobs_table_name, settings.record_ttl_days)
submitter = Submitter(
    batch,
    store,
    JobDefinitions(batch, settings.derived_job_definition_prefix),
    stack_name=settings.stack_name,
)


def record_handler(record: SQSRecord) -> None:
    try:
        spec = parse_job_spec(record.body)
    except InvalidJobSpec as exc:
        keys = record_unusable_message(store, record.body, record.message_id, str(exc))
        logger.error("rejected job spec", extra={"keys": keys, "reason": str(exc)})
        metrics.add_metric(name=metric_names.SPEC_REJECTED, unit=MetricUnit.Count, value=1)
        return
    last = int(record.attributes.approximate_receive_count) >= settings.submit_max_receive_count
    # The job's keys label this record's log lines only, not the next record's of the batch.
    with logger.append_context_keys(
        correlation_id=spec.run_id, run_id=spec.run_id, job_id=spec.job_id, rule=spec.rule
    ):
        result = submitter.submit(spec, last_delivery=last)
        logger.info(
            "job spec handled",
            extra={"outcome": result.outcome, "batch_job_id": result.batch_job_id, "reason": result.reason},
        )
    metrics.add_metric(name=metric_names.SPEC_OUTCOMES[result.outcome], unit=MetricUnit.Count, value=1)
    sent_ms = str(record.attributes.get("SentTimestamp") or "")  # epoch ms, as SQS gives it
    if result.outcome == Outcome.SUBMITTED and sent_ms.isdigit():
        latency = max(0.0, time.time() * 1000 - int(sent_ms))
        metrics.add_metric(name=metric_names.SUBMIT_LATENCY, unit=MetricUnit.Milliseconds, value=latency)


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    try:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    finally:
        # One fresh cancel read for the whole delivery, after its last SubmitJob.
        recheck = submitter.recheck_cancels()
        if recheck.terminated or recheck.errors:
            logger.warning(
                "run cancelled during submission: jobs terminated",
                extra={"batch_job_ids": recheck.terminated, "errors": recheck.errors},
            )
            metrics.add_metric(
                name=metric_names.JOBS_TERMINATED_AFTER_CANCEL,
                unit=MetricUnit.Count,
                value=len(recheck.terminated),
            )
