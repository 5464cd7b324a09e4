"""Specs onto SQS: batches of 10 within the size limit; an oversized spec is an error naming the job."""

import boto3
import pytest

from snakemake_executor_plugin_aws_basic_batch_sls.sender import SpecTooLarge, encode, send_specs
from tests.support.aws_calls import error_response, ok_response, on_call, record_calls
from tests.support.specs import minimal_spec, model


def _specs(count, payload=""):
    return [model(minimal_spec(job_id=f"{i:032x}", environment={"PAYLOAD": payload})) for i in range(count)]


def test_send_message_batch_in_groups_of_ten(jobs_queue):
    sqs = boto3.client("sqs")
    calls = record_calls(sqs, "SendMessageBatch")
    assert send_specs(sqs, jobs_queue.url, encode(_specs(25))) == {}
    assert sorted(len(c["Entries"]) for c in calls) == [5, 10, 10]
    attributes = sqs.get_queue_attributes(
        QueueUrl=jobs_queue.url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "25"


def test_groups_also_respect_the_batch_size_limit(jobs_queue):
    sqs = boto3.client("sqs")
    calls = record_calls(sqs, "SendMessageBatch")
    assert send_specs(sqs, jobs_queue.url, encode(_specs(6, payload="x" * 100_000))) == {}
    assert [len(c["Entries"]) for c in calls] == [2, 2, 2]


def test_a_spec_too_large_for_sqs_names_the_job():
    spec = _specs(1, payload="x" * 300_000)[0]
    with pytest.raises(SpecTooLarge) as info:
        encode([spec])
    assert f"rule {spec.rule}" in str(info.value) and spec.job_name in str(info.value)


def _refuse(refused_id, times):
    """Answer SendMessageBatch as SQS does for a partial failure, `times` times."""
    count = [0]

    def answer(body):
        count[0] += 1
        if count[0] > times:
            return None
        ids = [e["Id"] for e in body["Entries"]]
        return ok_response(
            {
                "Successful": [
                    {"Id": i, "MessageId": i, "MD5OfMessageBody": "x"} for i in ids if i != refused_id
                ],
                "Failed": [
                    {"Id": refused_id, "SenderFault": False, "Code": "InternalError", "Message": "busy"}
                ],
            }
        )

    return answer


def test_partial_failures_are_retried_alone(jobs_queue):
    sqs = boto3.client("sqs")
    specs = _specs(3)
    calls = record_calls(sqs, "SendMessageBatch")
    on_call(sqs, "SendMessageBatch", _refuse(specs[1].job_id, times=1))
    assert send_specs(sqs, jobs_queue.url, encode(specs)) == {}
    assert [e["Id"] for e in calls[1]["Entries"]] == [specs[1].job_id]


def test_persistent_partial_failures_are_reported_per_job(jobs_queue):
    sqs = boto3.client("sqs")
    specs = _specs(3)
    on_call(sqs, "SendMessageBatch", _refuse(specs[2].job_id, times=99))
    assert send_specs(sqs, jobs_queue.url, encode(specs)) == {specs[2].job_id: "InternalError: busy"}


def test_a_call_that_fails_after_retries_fails_only_its_own_jobs(jobs_queue):
    # GIVEN 25 specs (three calls), and SQS answering one of the calls with an error every time
    sqs = boto3.client("sqs")
    specs = _specs(25)
    doomed = {spec.job_id for spec in specs[10:20]}
    on_call(
        sqs,
        "SendMessageBatch",
        lambda body: (
            error_response("AccessDenied", "not allowed", 403)
            if {e["Id"] for e in body["Entries"]} == doomed
            else None
        ),
    )

    # WHEN they are sent, THEN exactly that call's jobs are reported, with the reason; the rest are queued
    refused = send_specs(sqs, jobs_queue.url, encode(specs))
    assert set(refused) == doomed
    assert all("AccessDenied" in reason and jobs_queue.url in reason for reason in refused.values())
    attributes = sqs.get_queue_attributes(
        QueueUrl=jobs_queue.url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "15"


def test_nothing_to_send_makes_no_call(jobs_queue):
    sqs = boto3.client("sqs")
    calls = record_calls(sqs, "SendMessageBatch")
    assert send_specs(sqs, jobs_queue.url, []) == {}
    assert calls == []
