"""Sorting Batch API failures into "retry later" and "will never work"."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from .errors import PermanentSubmitError, RetryableSubmitError

_THROTTLING = frozenset(
    {"TooManyRequestsException", "ThrottlingException", "Throttling", "RequestLimitExceeded"}
)


def classify(exc: Exception, what: str) -> Exception:
    """The domain error to raise (from exc) for a failed Batch call."""
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        message = exc.response.get("Error", {}).get("Message", str(exc))
        if code in _THROTTLING or status >= 500 or code == "ServerException":
            return RetryableSubmitError(f"{what}: {code}: {message}")
        return PermanentSubmitError(f"{what} rejected by AWS Batch: {code}: {message}")
    if isinstance(exc, BotoCoreError):
        # Connection errors and the like: the service may be back on the next delivery.
        return RetryableSubmitError(f"{what}: {exc}")
    return exc
