"""AWS SDK errors as one readable line saying what failed and what to check (CLI and plugin)."""

from __future__ import annotations

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)

from sls_contract.batch_errors import ACCESS_DENIED_CODES, THROTTLING_CODES


def describe_aws_error(exc: ClientError | BotoCoreError, option_prefix: str = "--") -> str:
    """An AWS SDK error as one line saying what failed and what to check.

    option_prefix names the options to check: "--" for the CLI's, "--aws-basic-batch-sls-" for the plugin's.
    """
    if isinstance(exc, NoCredentialsError):
        return (
            "no AWS credentials found: set AWS_PROFILE (or run `aws configure` / `aws sso login`), "
            "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    if isinstance(exc, NoRegionError):
        return (
            f"no AWS region: pass {option_prefix}region or set SNAKEMAKE_AWS_BASIC_BATCH_SLS_REGION or "
            "AWS_DEFAULT_REGION"
        )
    if isinstance(exc, EndpointConnectionError):
        return (
            f"cannot reach {exc.kwargs.get('endpoint_url')}: check {option_prefix}endpoint-url "
            "(is the local cloud running?) or your network"
        )
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code, message = error.get("Code", "Error"), error.get("Message", "")
        if code in THROTTLING_CODES:
            return f"AWS throttled {exc.operation_name} ({code}) even after retries: try again in a minute"
        if code in ACCESS_DENIED_CODES:
            return f"not allowed to call {exc.operation_name}: {message}"
        if code in {"ExpiredToken", "ExpiredTokenException", "UnrecognizedClientException"}:
            return f"AWS rejected your credentials ({code}): {message}; refresh them and try again"
        if code == "ValidationError" and "does not exist" in message:
            return f"{message}: check {option_prefix}stack and {option_prefix}region"
        return f"{exc.operation_name} failed: {code}: {message}"
    return str(exc)
