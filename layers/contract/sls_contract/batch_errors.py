"""Sorting AWS API failures into "retry later" and "will never work"."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from .errors import PermanentSubmitError, RetryableSubmitError

THROTTLING_CODES = frozenset(
    {"TooManyRequestsException", "ThrottlingException", "Throttling", "RequestLimitExceeded"}
)


def is_transient(exc: ClientError) -> bool:
    """Throttling or a server-side failure: the same call may well work a moment later."""
    code = exc.response.get("Error", {}).get("Code", "")
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return code in THROTTLING_CODES or status >= 500 or code == "ServerException"


def classify(exc: Exception, what: str) -> Exception:
    """The domain error to raise (from exc) for a failed Batch call."""
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        message = exc.response.get("Error", {}).get("Message", str(exc))
        if is_transient(exc):
            return RetryableSubmitError(f"{what}: {code}: {message}", throttled=code in THROTTLING_CODES)
        return PermanentSubmitError(f"{what} rejected by AWS Batch: {code}: {message}")
    if isinstance(exc, BotoCoreError):
        # Connection errors and the like: the service may be back on the next delivery.
        return RetryableSubmitError(f"{what}: {exc}")
    return exc
