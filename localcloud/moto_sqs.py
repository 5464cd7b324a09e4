"""Take two per-message full-queue scans out of moto's SQS (same results, less work).

moto computes a queue's whole attribute dict, three approximate counts that each scan every message,
(1) for every message SendMessage(Batch) adds (to read ContentBasedDeduplication) and (2) for every
message ReceiveMessage hands out (to read MessageRetentionPeriod). With thousands of messages queued
that makes each call O(n) scans of n messages, and the local cloud crawls where SQS would not. Both
now read the one attribute they need; GetQueueAttributes is unchanged.

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

from moto.core.utils import unix_time
from moto.sqs.models import Message, Queue, SQSBackend

_sending = threading.local()
_installed = False


def _retention_ok(self: SQSBackend, queue_name: str, message: Message) -> bool:
    retention_period = int(self.get_queue(queue_name).message_retention_period)
    return retention_period + message.sent_timestamp / 1000 > unix_time()


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

    original_delete = Queue.delete_message

    def delete_message(self: Queue, receipt_handle: str) -> None:
        with self._messages_lock:
            original_delete(self, receipt_handle)

    def pending_message_groups(self: Queue) -> set[str]:
        return {m.group_id for m in self._pending_messages.copy() if m.group_id is not None}

    Queue.attributes = property(attributes)
    Queue.delete_message = delete_message
    Queue.pending_message_groups = property(pending_message_groups)
    SQSBackend.send_message = send_message
    SQSBackend.is_message_valid_based_on_retention_period = _retention_ok
    _installed = True
