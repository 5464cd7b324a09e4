"""AWS failures sorted into "retry later" and "will never work", keeping AWS's error code."""

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ParamValidationError

from sls_contract.batch_errors import classify
from sls_contract.errors import PermanentSubmitError, RetryableSubmitError


def client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "SubmitJob"
    )


@pytest.mark.parametrize(
    ("exc", "kind", "code", "throttled"),
    [
        (
            client_error("TooManyRequestsException", 429),
            RetryableSubmitError,
            "TooManyRequestsException",
            True,
        ),
        (client_error("ServerException", 500), RetryableSubmitError, "ServerException", False),
        (client_error("ClientException", 400), PermanentSubmitError, "ClientException", None),
        (client_error("AccessDeniedException", 403), PermanentSubmitError, "AccessDeniedException", None),
        # a bug in the request, not a fault of the service: never retried
        (
            ParamValidationError(report="jobName: too long"),
            PermanentSubmitError,
            "ParamValidationError",
            None,
        ),
        (
            EndpointConnectionError(endpoint_url="https://batch"),
            RetryableSubmitError,
            "EndpointConnectionError",
            False,
        ),
    ],
)
def test_each_failure_is_classified_with_its_code(exc, kind, code, throttled):
    error = classify(exc, "SubmitJob j")
    assert type(error) is kind and error.code == code
    assert str(error).startswith("SubmitJob j")
    if throttled is not None:
        assert error.throttled is throttled
