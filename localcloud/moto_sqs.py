"""Take two per-message full-queue scans out of moto's SQS (same results, less work).

moto computes a queue's whole attribute dict, three approximate counts that each scan every message,
(1) for every message SendMessage(Batch) adds (to read ContentBasedDeduplication) and (2) for every
message ReceiveMessage hands out (to read MessageRetentionPeriod). With thousands of messages queued
that makes each call O(n) scans of n messages, and the local cloud crawls where SQS would not. Both
now read the one attribute they need; GetQueueAttributes is unchanged.

Two more per-call costs that grow with the queue, taken out (same results): moto's list of visible
messages (every ReceiveMessage, and every long-poll wake-up) read the clock twice per queued message;
it reads it once per call. DeleteMessage(Batch) walked the queue twice per receipt handle, building
each message's list of handles as it went; a batch now walks it once. At 10,000 jobs the events queue
holds tens of thousands of state changes at once and those walks held the GIL of the process that
also serves S3 and Batch (bench/RESULTS.md, 10,000 jobs).

Two races between request threads, fixed (moto's SQS is otherwise unlocked):

- DeleteMessage rebuilds the queue's message list and assigns it back, outside the lock SendMessage
  appends under: two deletes at once put each other's message back (a redelivery 180 s later), and a
  message sent during a delete vanished. The chaos suite lost 22 state-change events of 1,000 jobs
  so. Deletes now hold the queue's own message lock.
- ReceiveMessage iterates the set of in-flight messages while another thread adds to it ("Set
  changed size during iteration", a 500); it now iterates a copy, taken in one step.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from moto.core.utils import unix_time, unix_time_millis
from moto.sqs.exceptions import ReceiptHandleIsInvalid
from moto.sqs.models import Message, Queue, SQSBackend

_sending = threading.local()
_installed = False


def _retention_ok(self: SQSBackend, queue_name: str, message: Message) -> bool:
    retention_period = int(self.get_queue(queue_name).message_retention_period)
    return retention_period + message.sent_timestamp / 1000 > unix_time()


def _visible_messages(self: Queue) -> list[Message]:
    """moto's Queue.messages (visible and not delayed: Message.visible, Message.delayed), one clock read."""
    now = unix_time_millis()
    return [m for m in self._messages if now > m.visible_at and not now < m.delayed_until]


def _delete(queue: Queue, handles: list[str]) -> set[str]:
    """Delete every message that ever had one of these receipt handles, in one walk of the queue (the
    caller holds its message lock); the handles no message ever had (moto: ReceiptHandleIsInvalid).
    The same outcome as moto's Queue.delete_message once per handle, in order: a handle already deleted
    (or one of a message another handle deletes) succeeds and changes nothing."""
    wanted = {h for h in handles if h not in queue.deleted_messages}
    if not wanted:
        return set()
    found: set[str] = set()
    keep = []
    for message in queue._messages:
        old = message._old_receipt_handles
        if message.receipt_handle in wanted or (old and not wanted.isdisjoint(old)):
            handles_of = message.all_receipt_handles
            found.update(h for h in handles_of if h in wanted)
            queue.pending_messages.discard(message)
            queue.deleted_messages.update(handles_of)
        else:
            keep.append(message)
    if found:
        queue._messages = keep
    return wanted - found


def _delete_message_batch(
    self: SQSBackend, queue_name: str, receipts: list[dict[str, Any]]
) -> tuple[list[str], list[dict[str, str]]]:
    """moto's delete_message_batch (same successes and errors, in order), the queue walked once."""
    queue = self.get_queue(queue_name)
    with queue._messages_lock:
        invalid = _delete(queue, [r["ReceiptHandle"] for r in receipts])
    success, errors = [], []
    for receipt in receipts:
        if receipt["ReceiptHandle"] not in invalid:
            success.append(receipt["Id"])
            continue
        errors.append(
            {
                "Id": receipt["Id"],
                "SenderFault": True,
                "Code": "ReceiptHandleIsInvalid",
                "Message": f'The input receipt handle "{receipt["ReceiptHandle"]}" is not a valid receipt handle.',
            }
        )
    return success, errors


def install() -> None:
    global _installed
    if _installed:
        return
    full_attributes = Queue.attributes.fget

    def attributes(self: Queue) -> dict[str, Any]:
        if getattr(_sending, "depth", 0):  # inside send_message: it reads ContentBasedDeduplication only
            dedup = getattr(self, "content_based_deduplication", False)
            return {"ContentBasedDeduplication": str(dedup).lower()} if self.fifo_queue else {}
        return full_attributes(self)

    original_send = SQSBackend.send_message

    @functools.wraps(original_send)
    def send_message(self: SQSBackend, *args: Any, **kwargs: Any) -> Any:
        _sending.depth = getattr(_sending, "depth", 0) + 1
        try:
            return original_send(self, *args, **kwargs)
        finally:
            _sending.depth -= 1

    def delete_message(self: Queue, receipt_handle: str) -> None:
        with self._messages_lock:
            if _delete(self, [receipt_handle]):
                raise ReceiptHandleIsInvalid()

    def pending_message_groups(self: Queue) -> set[str]:
        return {m.group_id for m in self._pending_messages.copy() if m.group_id is not None}

    Queue.attributes = property(attributes)
    Queue.delete_message = delete_message
    Queue.messages = property(_visible_messages)
    SQSBackend.delete_message_batch = _delete_message_batch
    Queue.pending_message_groups = property(pending_message_groups)
    SQSBackend.send_message = send_message
    SQSBackend.is_message_valid_based_on_retention_period = _retention_ok
    _installed = True
