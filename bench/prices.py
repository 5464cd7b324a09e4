"""AWS list prices the cost figures use: us-east-1, on-demand, beyond the free tiers, as checked on PRICES_DATE.

One place for every price the benchmark's cost per 1,000 jobs multiplies by; update the date and the
figures together. Each price says where it comes from (the service's pricing page).
"""

from __future__ import annotations

from dataclasses import dataclass

REGION = "us-east-1"
PRICES_DATE = "2026-12-01"


@dataclass(frozen=True)
class Price:
    usd: float  # per `unit`
    unit: str
    source: str


# SQS standard queue: per request, first 100 billion a month; each 64 KiB chunk of a request's
# payload is billed as one request; empty receives are requests too.
SQS_REQUEST = Price(0.40 / 1e6, "request (64 KiB chunk)", "https://aws.amazon.com/sqs/pricing/")
# Lambda, Arm (the template's Architectures: [arm64]): requests, and duration per GB-second (first
# 7.5 billion GB-s a month), duration rounded up to the millisecond.
LAMBDA_REQUEST = Price(0.20 / 1e6, "invocation", "https://aws.amazon.com/lambda/pricing/")
LAMBDA_ARM_GB_SECOND = Price(0.0000133334, "GB-second (arm64)", "https://aws.amazon.com/lambda/pricing/")
# DynamoDB on-demand, Standard table class, after the November 2024 price cut (on-demand throughput
# halved): per write and read request unit.
DYNAMODB_WRITE_UNIT = Price(
    0.625 / 1e6, "write request unit", "https://aws.amazon.com/dynamodb/pricing/on-demand/"
)
DYNAMODB_READ_UNIT = Price(
    0.125 / 1e6, "read request unit", "https://aws.amazon.com/dynamodb/pricing/on-demand/"
)
# EventBridge: state-change events AWS services publish to the default bus are free, rule matching and
# delivery to targets included; custom events (PutEvents, the coordinator's run events) are charged.
EVENTBRIDGE_AWS_SERVICE_EVENT = Price(0.0, "AWS service event", "https://aws.amazon.com/eventbridge/pricing/")
EVENTBRIDGE_CUSTOM_EVENT = Price(
    1.00 / 1e6, "custom event (64 KB chunk)", "https://aws.amazon.com/eventbridge/pricing/"
)
# Step Functions Standard workflows: per state transition.
STEP_FUNCTIONS_TRANSITION = Price(
    0.025 / 1000, "state transition", "https://aws.amazon.com/step-functions/pricing/"
)
# CloudWatch Logs, Standard log class: ingestion per GB (Lambda's logs, first 10 TB a month).
CLOUDWATCH_LOGS_GB = Price(0.50, "GB ingested", "https://aws.amazon.com/cloudwatch/pricing/")

ALL = {
    "SQS requests": SQS_REQUEST,
    "Lambda requests": LAMBDA_REQUEST,
    "Lambda duration": LAMBDA_ARM_GB_SECOND,
    "DynamoDB writes": DYNAMODB_WRITE_UNIT,
    "DynamoDB reads": DYNAMODB_READ_UNIT,
    "EventBridge AWS service events": EVENTBRIDGE_AWS_SERVICE_EVENT,
    "EventBridge custom events": EVENTBRIDGE_CUSTOM_EVENT,
    "Step Functions transitions": STEP_FUNCTIONS_TRANSITION,
    "CloudWatch Logs ingestion": CLOUDWATCH_LOGS_GB,
}
