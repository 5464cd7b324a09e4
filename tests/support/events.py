"""AWS-shaped sample events (tests/events/*.json) and the SQS envelopes the functions receive."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

from sls_contract.job_record import JOB_ID_ENV, RUN_ID_ENV, TABLE_ENV

EVENTS_DIR = Path(__file__).resolve().parent.parent / "events"
STATE_EVENTS_QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:aws-basic-batch-sls-StateEventsQueue"
JOBS_QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:aws-basic-batch-sls-JobsQueue"


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS_DIR / f"{name}.json").read_text(encoding="utf-8"))


def state_change(
    name: str, run_id: str, job_id: str, table: str | None = None, **detail: Any
) -> dict[str, Any]:
    """A sample "Batch Job State Change" event re-addressed to our (run_id, job_id), and to `table`'s
    stack when given."""
    event = copy.deepcopy(load_event(name))
    environment = event["detail"]["container"]["environment"]
    addressed = {RUN_ID_ENV: run_id, JOB_ID_ENV: job_id, **({TABLE_ENV: table} if table else {})}
    for entry in environment:
        entry["value"] = addressed.get(entry["name"], entry["value"])
    event["detail"].update(detail)
    return event


def put_events_entry(event: dict[str, Any]) -> dict[str, Any]:
    """An event as EventBridge's PutEvents takes it (as the local Batch puts its state changes)."""
    return {
        "Source": event["source"],
        "DetailType": event["detail-type"],
        "Detail": json.dumps(event["detail"]),
    }


def sqs_record(body: str, message_id: str, receive_count: int = 1, source_arn: str = JOBS_QUEUE_ARN) -> dict:
    """One SQS record as Lambda's SQS event source delivers it."""
    template = load_event("sqs_submit_job")["Records"][0]
    record = copy.deepcopy(template)
    record.update(
        messageId=message_id,
        receiptHandle=f"handle-{message_id}-{receive_count}",
        body=body,
        md5OfBody=hashlib.md5(body.encode()).hexdigest(),
        eventSourceARN=source_arn,
    )
    record["attributes"]["ApproximateReceiveCount"] = str(receive_count)
    return record


def sqs_event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


def state_events(*events: dict[str, Any]) -> dict[str, Any]:
    """State-change events as the record function receives them: EventBridge -> SQS -> Lambda."""
    return sqs_event(
        *(
            sqs_record(json.dumps(event), f"evt-{index}-{event['id']}", source_arn=STATE_EVENTS_QUEUE_ARN)
            for index, event in enumerate(events)
        )
    )
