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


def _queue(client: Callable[..., Any], name: str) -> tuple[Any, str, Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sqs.models import sqs_backends

    moto_sqs.install()
    sqs = client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    return sqs, url, sqs_backends[DEFAULT_ACCOUNT_ID][sqs.meta.region_name].queues[name]


def test_delete_message_batch_answers_as_moto_does_and_walks_the_queue_once(client) -> None:
    """One walk of the queue per DeleteMessageBatch (moto walked it twice per entry, building each
    message's handle list), with moto's answers: a current or an earlier receipt handle deletes its
    message, a handle already deleted succeeds, one no message ever had fails with
    ReceiptHandleIsInvalid; the other messages stay."""
    sqs, url, queue = _queue(client, f"batch-{uuid.uuid4().hex[:8]}")
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(6)])
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=3, VisibilityTimeout=0)["Messages"]
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30)["Messages"]
    by_body = {m["Body"]: m["ReceiptHandle"] for m in again}
    earlier = next(m for m in first if m["ReceiptHandle"] != by_body[m["Body"]])  # received twice
    sqs.delete_message(QueueUrl=url, ReceiptHandle=by_body["m5"])

    walks = []

    class Counted(list):
        def __iter__(self):  # type: ignore[no-untyped-def]
            walks.append(1)
            return super().__iter__()

    queue._messages = Counted(queue._messages)
    answer = sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "earlier", "ReceiptHandle": earlier["ReceiptHandle"]},
            {"Id": "current", "ReceiptHandle": by_body["m4"]},
            {"Id": "deleted", "ReceiptHandle": by_body["m5"]},
            {"Id": "bogus", "ReceiptHandle": "not-a-handle"},
        ],
    )
    assert len(walks) == 1
    assert sorted(e["Id"] for e in answer["Successful"]) == ["current", "deleted", "earlier"]
    assert [(e["Id"], e["Code"], e["SenderFault"]) for e in answer["Failed"]] == [
        ("bogus", "ReceiptHandleIsInvalid", True)
    ]
    left = sorted(m.body for m in queue._messages)
    assert left == sorted({"m0", "m1", "m2", "m3"} - {earlier["Body"]})
    # AND DeleteMessage keeps moto's answers too: a deleted handle is fine, an unknown one is refused
    sqs.delete_message(QueueUrl=url, ReceiptHandle=by_body["m4"])
    try:
        sqs.delete_message(QueueUrl=url, ReceiptHandle="not-a-handle")
    except sqs.exceptions.ClientError as exc:
        assert "ReceiptHandleIsInvalid" in str(exc)
    else:
        raise AssertionError("an unknown receipt handle was accepted")


def test_visible_messages_are_those_moto_shows(client) -> None:
    """Queue.messages with one clock read: in-flight and delayed messages are left out, as moto does."""
    sqs, url, queue = _queue(client, f"visible-{uuid.uuid4().hex[:8]}")
    sqs.send_message(QueueUrl=url, MessageBody="delayed", DelaySeconds=60)
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(3)])
    sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=60)
    shown = sorted(m.body for m in queue.messages)
    assert shown == sorted(m.body for m in queue._messages if m.visible and not m.delayed)
    assert len(shown) == 2 and "delayed" not in shown
