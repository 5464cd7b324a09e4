"""moto's SQS with the local cloud's patch: no message lost while sends and deletes interleave."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

from localcloud import moto_sqs


def test_no_message_is_lost_when_sends_and_deletes_interleave(client: Callable[..., Any]) -> None:
    """moto rebuilds a queue's message list on DeleteMessage, outside the lock SendMessage appends under:
    two deletes at once put each other's message back, and a message sent meanwhile could vanish (the
    chaos suite saw 1,500 extra deliveries and 22 lost state events at 1,000 jobs)."""
    moto_sqs.install()
    sqs = client("sqs")
    url = sqs.create_queue(QueueName=f"interleave-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    total, received, lock, sent_all = 6000, set(), threading.Lock(), threading.Event()

    def send(first: int, last: int) -> None:
        mine = client("sqs")
        for start in range(first, last, 10):
            entries = [{"Id": str(i), "MessageBody": f"m{start + i}"} for i in range(10)]
            assert not mine.send_message_batch(QueueUrl=url, Entries=entries).get("Failed")

    def consume() -> None:
        mine = client("sqs")
        while True:
            messages = mine.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
                "Messages", []
            )
            if not messages:
                if sent_all.is_set():
                    return
                continue
            with lock:
                received.update(m["Body"] for m in messages)
            mine.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )

    send(0, total // 2)  # a long queue: each delete walks every message in it
    sender = threading.Thread(target=lambda: (send(total // 2, total), sent_all.set()))
    consumers = [threading.Thread(target=consume) for _ in range(4)]
    for thread in [sender, *consumers]:
        thread.start()
    for thread in [sender, *consumers]:
        thread.join(timeout=300)
    assert len(received) == total, f"{total - len(received)} messages lost"
    # and none came back from the dead: every message was deleted once, none is left in flight
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    left = int(counts["ApproximateNumberOfMessages"]) + int(counts["ApproximateNumberOfMessagesNotVisible"])
    assert left == 0, f"{left} deleted messages back in the queue"
