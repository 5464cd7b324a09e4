"""Sorting AWS API failures into "retry later" and "will never work"."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from .errors import PermanentSubmitError, RetryableSubmitError

THROTTLING_CODES = frozenset(
    {"TooManyRequestsException", "ThrottlingException", "Throttling", "RequestLimitExceeded"}
)


def is_transient(exc: ClientError) -> bool:
    """Throttling or a server-side failure: the same call may well work a moment later."""
    code = exc.response.get("Error", {}).get("Code", "")
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return code in THROTTLING_CODES or status >= 500 or code == "ServerException"


ACCESS_DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})


def classify(exc: ClientError | BotoCoreError, what: str) -> RetryableSubmitError | PermanentSubmitError:
    """The domain error to raise (from exc) for a failed AWS call, keeping AWS's error code.

    botocore's ParamValidationError is a bug in the request, not a fault of the service: permanent.
    """
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        message = exc.response.get("Error", {}).get("Message", str(exc))
        if is_transient(exc):
            return RetryableSubmitError(
                f"{what}: {code}: {message}", throttled=code in THROTTLING_CODES, code=code
            )
        return PermanentSubmitError(f"{what} rejected by AWS Batch: {code}: {message}", code=code)
    if isinstance(exc, ParamValidationError):
        return PermanentSubmitError(f"{what}: invalid request: {exc}", code="ParamValidationError")
    # Connection errors and the like: the service may be back on the next delivery.
    return RetryableSubmitError(f"{what}: {exc}", code=type(exc).__name__)
