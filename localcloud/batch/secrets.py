"""Resolves a job definition's containerProperties.secrets from moto's Secrets Manager and SSM."""

from __future__ import annotations

import json
from typing import Any

from moto.secretsmanager.models import secretsmanager_backends
from moto.ssm.models import ssm_backends


class SecretResolutionError(Exception):
    """A secret could not be read: ECS fails the task with ResourceInitializationError."""


def _secretsmanager_value(account: str, region: str, value_from: str) -> str:
    # arn:aws:secretsmanager:region:acct:secret:name-AbCdEf[:json-key:version-stage:version-id]
    parts = value_from.split(":")
    secret_id = ":".join(parts[:7])
    json_key, stage, version = [*parts[7:], "", "", ""][:3]
    backend = secretsmanager_backends[account][region]
    value = backend.get_secret_value(secret_id, version or None, stage or None)
    text = value.get("SecretString") or ""
    if json_key:
        return str(json.loads(text)[json_key])
    return text


def _ssm_value(account: str, region: str, value_from: str) -> str:
    parameter = ssm_backends[account][region].get_parameter(value_from)
    if parameter is None:
        raise SecretResolutionError(f"SSM parameter {value_from} not found")
    return str(parameter.response_object(decrypt=True, region=region)["Value"])


def resolve_secrets(account: str, region: str, secrets: list[dict[str, Any]]) -> dict[str, str]:
    """Map each secret's name to its value, as the ECS agent injects them into the container."""
    env: dict[str, str] = {}
    for secret in secrets:
        value_from = secret["valueFrom"]
        try:
            if ":secretsmanager:" in value_from:
                env[secret["name"]] = _secretsmanager_value(account, region, value_from)
            else:
                env[secret["name"]] = _ssm_value(account, region, value_from)
        except SecretResolutionError:
            raise
        except Exception as exc:
            raise SecretResolutionError(f"{value_from}: {exc}") from exc
    return env
