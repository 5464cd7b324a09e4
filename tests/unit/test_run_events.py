"""The S3 upload and Step Functions status-change events, parsed leniently: what start_run and
run_lifecycle read of them, and what a malformed one does."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from sls_contract.run_events import ExecutionStatusChange, S3ObjectCreated
from sls_contract.run_request import InvalidRunRequest
from sls_contract.runs import read_trigger, run_id_of

UPLOAD: dict[str, Any] = {
    "version": "0",
    "id": "evt",
    "source": "aws.s3",
    "detail-type": "Object Created",
    "time": "2026-11-22T00:00:00Z",
    "detail": {
        "version": "0",
        "bucket": {"name": "runs-bucket"},
        "object": {"key": "run-requests/a.yaml", "size": 10, "etag": "e1", "sequencer": "s1"},
        "request-id": "r",
        "reason": "PutObject",
    },
}
STOPPED: dict[str, Any] = {
    "source": "aws.states",
    "detail-type": "Step Functions Execution Status Change",
    "detail": {
        "executionArn": "arn:aws:states:us-east-1:1:execution:m:r-1",
        "stateMachineArn": "arn:aws:states:us-east-1:1:stateMachine:m",
        "name": "r-1",
        "status": "TIMED_OUT",
        "startDate": 1,
        "stopDate": 2,
        "input": "{}",
        "output": None,
        "error": None,
        "cause": None,
    },
}


def _with_object(**fields: Any) -> dict[str, Any]:
    return {**UPLOAD, "detail": {**UPLOAD["detail"], "object": {"key": "k", **fields}}}


def test_an_upload_event_is_read_for_bucket_key_and_identity_only():
    created = S3ObjectCreated.model_validate(UPLOAD)
    assert (created.detail.bucket.name, created.detail.object.key) == ("runs-bucket", "run-requests/a.yaml")
    assert created.detail.object.identity() == "e1"


@pytest.mark.parametrize(
    ("fields", "version", "identity"),
    [
        ({"version-id": "v7", "etag": "e1"}, "v7", "v7"),  # versioned: the version tells uploads apart
        ({"version-id": "null", "etag": "e1"}, None, "e1"),  # S3's "null": no versioning
        ({"eTag": "e2"}, None, "e2"),  # S3's own notification spelling
        ({"sequencer": "s1"}, None, "s1"),
        ({}, None, None),
    ],
)
def test_an_uploads_version_and_identity(fields, version, identity):
    obj = S3ObjectCreated.model_validate(_with_object(**fields)).detail.object
    assert (obj.version(), obj.identity()) == (version, identity)


@pytest.mark.parametrize(
    ("detail", "where"),
    [
        ({"object": {"key": "k"}}, "detail.bucket: Field required"),
        ({"bucket": {"name": "b"}}, "detail.object: Field required"),
        ({"bucket": {"name": "b"}, "object": {"etag": "e"}}, "detail.object.key: Field required"),
        ({"bucket": {"name": "b"}, "object": {"key": 5}}, "detail.object.key"),
        ("not a mapping", "detail"),
    ],
)
def test_a_malformed_upload_event_is_refused_as_no_run_trigger_before_s3_is_asked(detail, where):
    # (was: a KeyError or TypeError from deep inside the handler)
    with pytest.raises(InvalidRunRequest, match="not a run trigger: a malformed S3 event") as raised:
        read_trigger({**UPLOAD, "detail": detail}, None)
    assert where in str(raised.value)


def test_an_upload_read_without_an_s3_client_is_a_programming_error():
    with pytest.raises(TypeError, match="needs an S3 client"):
        read_trigger(UPLOAD, None)


def test_a_status_change_is_read_for_name_status_and_error_only():
    detail = ExecutionStatusChange.model_validate(STOPPED).detail
    assert (detail.name, detail.status, detail.executionArn) == (
        "r-1",
        "TIMED_OUT",
        "arn:aws:states:us-east-1:1:execution:m:r-1",
    )
    assert (detail.error, detail.cause) == (None, None)


@pytest.mark.parametrize(
    "detail",
    [{"status": "ABORTED"}, {"name": "r-1"}, {"name": 5, "status": "ABORTED"}, None],
)
def test_a_malformed_status_change_is_a_validation_error(detail):
    with pytest.raises(ValidationError):
        ExecutionStatusChange.model_validate({**STOPPED, "detail": detail})


@pytest.mark.parametrize(("detail", "run_id"), [("not a mapping", None), ([], None), ({"name": 5}, None)])
def test_a_status_change_without_a_readable_name_correlates_with_no_run(detail, run_id):
    # (was: AttributeError on a detail that is not a mapping, before the handler logged anything)
    assert run_id_of({**STOPPED, "detail": detail}) == run_id
