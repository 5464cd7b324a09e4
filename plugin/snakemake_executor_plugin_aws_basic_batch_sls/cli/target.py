"""Which control plane the CLI talks to: a stack's Outputs (on AWS or on the local cloud)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from botocore.config import Config
from botocore.exceptions import ClientError

from sls_contract import stack_outputs

from .. import handover
from ..config import Clients, read_stack_outputs
from .errors import CliError

DEFAULT_STACK = "aws-basic-batch-sls"  # samconfig.toml's stack_name and the local cloud's
# Few, quick retries: an operator waits at the prompt (the plugin, unattended, retries longer).
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=5, read_timeout=30)


def operator_clients(region: str | None, endpoint_url: str | None) -> Clients:
    return Clients(region, endpoint_url, _CONFIG)


@dataclass(frozen=True)
class Target:
    stack: str
    region: str
    jobs_table: str
    outputs: dict[str, str]
    clients: Clients
    local: bool  # a custom endpoint (the local cloud): no AWS console links

    def console_url(self, execution_arn: str) -> str | None:
        return None if self.local else handover.console_url(self.region, execution_arn)


def _outputs(clients: Clients, stack: str) -> dict[str, str]:
    try:
        return read_stack_outputs(clients, stack)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ValidationError":
            region = clients.session.region_name
            raise CliError(
                f"no stack {stack!r} in {region}: pass --stack NAME (or set "
                "SNAKEMAKE_AWS_BASIC_BATCH_SLS_STACK) and check --region"
            ) from exc
        raise


def resolve_target(stack: str, region: str | None, endpoint_url: str | None) -> Target:
    """The stack's Outputs give the jobs table and region; --region overrides the region."""
    clients = operator_clients(region, endpoint_url)
    outputs = _outputs(clients, stack)
    resolved = region or outputs.get(stack_outputs.REGION) or clients.session.region_name
    if resolved != clients.session.region_name:
        clients = operator_clients(resolved, endpoint_url)
    jobs_table = outputs.get(stack_outputs.JOBS_TABLE_NAME)
    if not jobs_table:
        raise CliError(
            f"stack {stack!r} has no Output {stack_outputs.JOBS_TABLE_NAME}: "
            "is it an aws-basic-batch-sls stack?"
        )
    local = bool(endpoint_url or os.environ.get("AWS_ENDPOINT_URL"))
    return Target(stack, resolved, jobs_table, outputs, clients, local)
