"""One Lambda function, run the way Lambda runs it: an SQS event source mapping calling the handler.

Started as a process per function by LambdaRuntime (`python -m localcloud.lambda_worker ...`). It reads
the function's configuration (handler, environment) and its event source mappings from the local
cloud's Lambda API, where the deployed template put them, imports the real handler module from the
source tree with the layer on sys.path, and polls: batch size and batching window honoured,
ReportBatchItemFailures honoured (only failed records stay on the queue), redrive to the DLQ by the
queue's own maxReceiveCount. One invocation at a time per process, as in one Lambda execution
environment; LambdaRuntime starts as many processes as the function's concurrency allows.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import random
import signal
import sys
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import boto3

REPO_ROOT = Path(__file__).resolve().parent.parent
LAYER_DIR = REPO_ROOT / "layers" / "contract"


RNG = random.Random()
REDELIVERED: set[str] = set()


class Context:
    """The LambdaContext fields Powertools reads."""

    def __init__(self, name: str, arn: str, memory: int, timeout_s: int) -> None:
        self.function_name = name
        self.function_version = "$LATEST"
        self.invoked_function_arn = arn
        self.memory_limit_in_mb = memory
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = "localcloud"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """Messages as Lambda's SQS event source delivers them."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": m.get("MessageAttributes", {}),
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


def load_handler(code_dir: Path, handler: str) -> Any:
    module_name, function_name = handler.rsplit(".", 1)
    sys.path[:0] = [str(code_dir), str(LAYER_DIR)]
    spec = importlib.util.spec_from_file_location(module_name, code_dir / f"{module_name}.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the handler module {module_name} from {code_dir}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, function_name)


def function_environment(function_name: str, config: Mapping[str, Any]) -> dict[str, str]:
    """What Lambda puts in a function's environment: its variables and the reserved ones we use."""
    return {
        **{k: str(v) for k, v in config.get("Environment", {}).get("Variables", {}).items()},
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.get("MemorySize", 128)),
    }


class Stats:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.data: dict[str, Any] = {
            "invocations": 0,
            "records": 0,
            "failed_records": 0,
            "handler_cpu_seconds": 0.0,
        }
        # AWS API calls the handler made, by service.Operation: count and this process's CPU inside
        # botocore's _make_api_call (request building, signing, HTTP, parsing, retries).
        self.data["calls"] = {}
        self.data["call_cpu_seconds"] = {}
        # For the cost figures: Lambda's billed duration (each invocation's wall time rounded up to the
        # millisecond), the bytes the handler wrote to stdout/stderr (CloudWatch Logs ingestion), and
        # the SQS calls this worker made as the event source mapping (receives, with or without
        # messages, deletes, visibility changes).
        self.data["billed_ms"] = 0
        self.data["handler_wall_seconds"] = 0.0
        self.data["log_bytes"] = 0
        self.data["worker_calls"] = {}
        self.in_handler = False

    def count_api_calls(self) -> None:
        """Wrap botocore's one entry point for API calls; the worker's own SQS calls are not counted."""
        from botocore.client import BaseClient

        client_class: Any = BaseClient  # botocore's stubs leave out the private method wrapped here
        original = client_class._make_api_call
        stats = self

        def _make_api_call(client: Any, operation_name: str, api_params: dict) -> Any:
            if not stats.in_handler:
                result = original(client, operation_name, api_params)
                if client.meta.service_model.service_name == "sqs":
                    op = f"sqs.{operation_name}"
                    if operation_name == "ReceiveMessage" and not result.get("Messages"):
                        op += " (empty)"
                    mine = stats.data["worker_calls"]
                    mine[op] = mine.get(op, 0) + 1
                return result
            op = f"{client.meta.service_model.service_name}.{operation_name}"
            started = time.process_time()
            try:
                return original(client, operation_name, api_params)
            finally:
                calls, cpu = stats.data["calls"], stats.data["call_cpu_seconds"]
                calls[op] = calls.get(op, 0) + 1
                cpu[op] = cpu.get(op, 0.0) + time.process_time() - started

        client_class._make_api_call = _make_api_call

    def add(self, records: int, failed: int, cpu: float, wall: float) -> None:
        if not self.data["invocations"]:  # the cold start's second half: work left to the first call
            self.data["first_invocation_seconds"] = wall
            self.data["first_invocation_cpu_seconds"] = cpu
        self.data["invocations"] += 1
        self.data["records"] += records
        self.data["failed_records"] += failed
        self.data["handler_cpu_seconds"] += cpu
        self.data["handler_wall_seconds"] += wall
        self.data["billed_ms"] += max(1, math.ceil(wall * 1000))
        self.write()

    def count_log_bytes(self) -> None:
        """What the handler writes to stdout and stderr (Powertools' JSON logs and EMF metrics); the
        streams are wrapped before the handler module is loaded, as its Logger keeps the stream."""
        sys.stdout = _CountingStream(sys.stdout, self)
        sys.stderr = _CountingStream(sys.stderr, self)

    def write(self) -> None:
        if self.path:
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.data))
            tmp.replace(self.path)


class _CountingStream:
    def __init__(self, stream: Any, stats: Stats) -> None:
        self._stream, self._stats = stream, stats

    def write(self, text: str) -> int:
        if self._stats.in_handler:
            self._stats.data["log_bytes"] += len(text.encode("utf-8", "replace"))
        return self._stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _receive(sqs: Any, url: str, batch_size: int, window_s: float, wait_s: int = 1) -> list[dict[str, Any]]:
    """One batch from a queue: a long poll of `wait_s` for the first messages, then what the batching
    window adds without waiting."""
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + window_s
    while len(messages) < batch_size:
        response = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=min(10, batch_size - len(messages)),
            WaitTimeSeconds=wait_s if not messages else 0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        got = response.get("Messages", [])
        messages.extend(got)
        if not got or time.monotonic() >= deadline:
            break
    return messages


def run(args: argparse.Namespace) -> None:
    lam, sqs = boto3.client("lambda"), boto3.client("sqs")
    config = lam.get_function_configuration(FunctionName=args.function_name)
    os.environ.update(function_environment(args.function_name, config))
    stats = Stats(Path(args.stats_file) if args.stats_file else None)
    stats.count_api_calls()
    stats.count_log_bytes()
    started = time.perf_counter()
    handler = load_handler(Path(args.code_dir), config["Handler"])
    stats.data["import_seconds"] = time.perf_counter() - started
    mappings = [
        m
        for m in lam.list_event_source_mappings(FunctionName=args.function_name)["EventSourceMappings"]
        if m.get("State", "Enabled") in ("Enabled", "Creating") and ":sqs:" in m["EventSourceArn"]
    ]
    sources = [
        (
            m["EventSourceArn"],
            sqs.get_queue_url(QueueName=m["EventSourceArn"].rsplit(":", 1)[1])["QueueUrl"],
            int(m.get("BatchSize", 10)),
            float(m.get("MaximumBatchingWindowInSeconds", 0) or 0),
            "ReportBatchItemFailures" in m.get("FunctionResponseTypes", []),
        )
        for m in mappings
    ]
    stats.write()
    Path(args.ready_file).write_text("ready")
    parent = os.getppid()
    busy = False
    while os.getppid() == parent:
        if not sources:  # invoked only through the Invoke API (localcloud.lambda_invoke): idle
            time.sleep(1)
        # Lambda polls each mapping on its own; one process serving several takes them in turn, and
        # must not sit in a long poll on an empty queue while another has a backlog: it long-polls
        # only the last mapping, and only after a round in which every queue was empty.
        round_busy = False
        for n, (arn, url, batch_size, window, partial) in enumerate(sources):
            wait = 1 if n == len(sources) - 1 and not busy and not round_busy else 0
            messages = _receive(sqs, url, batch_size, window, wait)
            if messages:
                round_busy = True
                invoke(handler, messages, arn, url, partial, config, sqs, args, stats)
        busy = round_busy


def invoke(
    handler: Any, messages: list, arn: str, url: str, partial: bool, config: Mapping[str, Any], sqs: Any,
    args: argparse.Namespace, stats: Stats,
) -> None:  # fmt: skip
    context = Context(
        args.function_name, config["FunctionArn"], config.get("MemorySize", 128), config["Timeout"]
    )
    by_id = {m["MessageId"]: m for m in messages}
    # Fault knob: each message is handled `deliveries` times. An earlier delivery is made visible again
    # before its handler runs, so other workers receive the copy while this one still handles it.
    early = {
        mid for mid, m in by_id.items() if int(m["Attributes"]["ApproximateReceiveCount"]) < args.deliveries
    }
    _set_visibility(sqs, url, [by_id[mid] for mid in early], 0)
    cpu, wall = time.process_time(), time.perf_counter()
    stats.in_handler = True
    try:
        response = handler(sqs_event(messages, arn, os.environ["AWS_REGION"]), context)
        if partial and isinstance(response, dict):
            failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
        else:
            failed = set()
    except Exception as exc:  # a crashed invocation fails the whole batch, as in Lambda
        print(f"invocation failed: {exc!r}", file=sys.stderr, flush=True)
        failed = set(by_id)
    stats.in_handler = False
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    done = [m for mid, m in by_id.items() if mid not in failed and mid not in early]
    # Fault knob: SQS is at-least-once; hand some successfully handled messages out once more.
    again = [m for m in done if m["MessageId"] not in REDELIVERED and RNG.random() < args.duplicate_rate]
    REDELIVERED.update(m["MessageId"] for m in again)
    done = [m for m in done if m not in again]
    _set_visibility(sqs, url, again, 0)
    for start in range(0, len(done), 10):
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(done[start : start + 10])
            ],
        )
    # Lambda leaves failed records until the visibility timeout ends; the local cloud shortens the
    # wait (retry_delay) so tests do not sit out 180 s. Receive counts and redrive are unchanged.
    retry = [by_id[mid] for mid in failed if mid in by_id and mid not in early]
    _set_visibility(sqs, url, retry, args.retry_delay)
    stats.add(len(messages), len(retry), cpu, wall)


def _set_visibility(sqs: Any, url: str, messages: list[dict[str, Any]], seconds: int) -> None:
    for start in range(0, len(messages), 10):
        sqs.change_message_visibility_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": seconds}
                for i, m in enumerate(messages[start : start + 10])
            ],
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--function-name", required=True)
    parser.add_argument("--code-dir", required=True)
    parser.add_argument("--ready-file", required=True)
    parser.add_argument("--stats-file")
    parser.add_argument("--retry-delay", type=int, default=2)
    parser.add_argument("--duplicate-rate", type=float, default=0.0, help="redeliver handled messages")
    parser.add_argument("--deliveries", type=int, default=1, help="handle every message this many times")
    parser.add_argument("--seed", default="0", help="seeds the duplicate knob (with the function name)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    RNG.seed(f"{args.seed}:{args.function_name}")
    run(args)


if __name__ == "__main__":
    main()
