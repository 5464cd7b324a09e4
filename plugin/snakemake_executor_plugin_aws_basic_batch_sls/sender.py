"""Job specs onto the SQS jobs queue: SendMessageBatch, 10 entries and 256 KiB a call, several at once."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from sls_contract.limits import SQS_MESSAGE_MAX_BYTES, SQS_SEND_BATCH_MAX
from sls_contract.spec import JobSpec

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

_PARTIAL_FAILURE_RETRIES = 3
T = TypeVar("T")

# Calls in flight at once: 1,000 jobs are 100 calls; one after the other they cost 100 round trips.
# Below botocore's default connection pool (10), so no connection is opened and thrown away.
SEND_CONCURRENCY = 8


class SpecTooLarge(ValueError):
    pass


def sqs_batches(bodies: Sequence[tuple[T, str]]) -> Iterator[list[tuple[T, str]]]:
    """(item, message body) pairs in SendMessageBatch-sized groups: at most 10 and 256 KiB a call."""
    group: list[tuple[T, str]] = []
    size = 0
    for spec, body in bodies:
        length = len(body.encode())
        if group and (len(group) == SQS_SEND_BATCH_MAX or size + length > SQS_MESSAGE_MAX_BYTES):
            yield group
            group, size = [], 0
        group.append((spec, body))
        size += length
    if group:
        yield group


def encode(specs: Sequence[JobSpec]) -> list[tuple[JobSpec, str]]:
    """Serialize, refusing (naming the job) any spec SQS would not take."""
    encoded = []
    for spec in specs:
        body = spec.to_message()
        if len(body.encode()) > SQS_MESSAGE_MAX_BYTES:
            raise SpecTooLarge(
                f"rule {spec.rule} (job {spec.snakemake_jobid}, {spec.job_name}): its job spec is "
                f"{len(body.encode())} bytes, over SQS's {SQS_MESSAGE_MAX_BYTES}; the command or "
                "environment is too large (pass big values through files or config instead)"
            )
        encoded.append((spec, body))
    return encoded


def _send_group(sqs: SQSClient, queue_url: str, group: list[tuple[JobSpec, str]]) -> dict[str, str]:
    """One group (a SendMessageBatch), partial failures retried; {job_id: error} for what SQS refused."""
    pending = {spec.job_id: body for spec, body in group}
    errors: dict[str, str] = {}
    try:
        for _ in range(_PARTIAL_FAILURE_RETRIES):
            response = sqs.send_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": job_id, "MessageBody": body} for job_id, body in pending.items()],
            )
            errors = {f["Id"]: f"{f.get('Code')}: {f.get('Message', '')}" for f in response.get("Failed", [])}
            pending = {job_id: body for job_id, body in pending.items() if job_id in errors}
            if not pending:
                break
    except (ClientError, BotoCoreError) as exc:  # after botocore's own retries
        return dict.fromkeys(pending, f"SendMessageBatch to {queue_url} failed: {exc}")
    return {job_id: errors[job_id] for job_id in pending}


def send_specs(sqs: SQSClient, queue_url: str, encoded: Sequence[tuple[JobSpec, str]]) -> dict[str, str]:
    """Send everything, up to SEND_CONCURRENCY calls at a time; returns {job_id: error} for the specs
    SQS refused or that could not be sent after retries. Never raises for one failed call: the
    other groups were sent and their jobs must be tracked."""
    groups = list(sqs_batches(encoded))
    if len(groups) <= 1:  # nothing to overlap (and a pool of zero workers is an error)
        return _send_group(sqs, queue_url, groups[0]) if groups else {}
    failed: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=min(SEND_CONCURRENCY, len(groups))) as pool:
        for refused in pool.map(lambda group: _send_group(sqs, queue_url, group), groups):
            failed.update(refused)
    return failed
