"""Watching and failing AWS calls at the botocore client, never by mocking our own code."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError


def _event_name(client: Any, operation: str) -> str:
    return f"before-call.{client.meta.service_model.service_id.hyphenize()}.{operation}"


def record_calls(client: Any, operation: str) -> list[dict[str, Any]]:
    """A list that fills with the JSON body of every `operation` request the client sends."""
    sent: list[dict[str, Any]] = []

    def _record(params: dict[str, Any], **_: Any) -> None:
        body = params.get("body") or b"{}"
        sent.append(json.loads(body))

    client.meta.events.register(_event_name(client, operation), _record)
    return sent


def on_call(client: Any, operation: str, action: Callable[[dict[str, Any]], Any]) -> None:
    """Run `action(request_body)` before each `operation` request; what it returns (if not None)
    is answered instead of calling AWS (see error_response / ok_response)."""

    def _hook(params: dict[str, Any], **_: Any) -> Any:
        return action(json.loads(params.get("body") or b"{}"))

    client.meta.events.register(_event_name(client, operation), _hook)


def error_response(code: str, message: str, status: int) -> tuple[AWSResponse, dict[str, Any]]:
    """The (http, parsed) pair botocore turns into ClientError, as if AWS had answered it."""
    http = AWSResponse("https://batch.us-east-1.amazonaws.com", status, {}, None)
    return http, {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }


def ok_response(parsed: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
    http = AWSResponse("https://batch.us-east-1.amazonaws.com", 200, {}, None)
    return http, {**parsed, "ResponseMetadata": {"HTTPStatusCode": 200}}


def fail_first(client: Any, operation: str, times: int, code: str, message: str, status: int) -> list[int]:
    """Answer the first `times` calls of `operation` with an AWS error; returns a one-item call counter."""
    count = [0]

    def _maybe_fail(_body: dict[str, Any]) -> Any:
        count[0] += 1
        return error_response(code, message, status) if count[0] <= times else None

    on_call(client, operation, _maybe_fail)
    return count


def ok_or_throttled(call: Callable[[], Any]) -> str:
    """ "ok", or the error code of a call AWS refused with HTTP 429 (any other failure fails the test)."""
    try:
        call()
        return "ok"
    except ClientError as exc:
        assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == 429
        return str(exc.response["Error"]["Code"])
