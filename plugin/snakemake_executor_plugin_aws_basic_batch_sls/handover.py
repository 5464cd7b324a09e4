"""Coordinator mode: hand the whole run to the stack's state machine instead of running jobs here."""

from __future__ import annotations

import os
from typing import Any

from snakemake_interface_common.exceptions import WorkflowError

from sls_contract.run_request import BUNDLED, RunRequest
from sls_contract.run_store import RunStore
from sls_contract.runs import RunStarter, StartOutcome

from .config import Clients, ControlPlane

PLUGIN_TRIGGER = "snakemake --aws-basic-batch-sls-coordinator"


def run_request(workflow: Any, settings: Any, run_id: str, tags: dict[str, str]) -> RunRequest:
    """This invocation as a run request (what the coordinator job will run)."""
    storage_prefix = workflow.storage_settings.default_storage_prefix
    if not storage_prefix:
        raise WorkflowError("coordinator mode needs --default-storage-prefix s3://bucket/prefix")
    dag = getattr(workflow, "dag_settings", None)
    config = getattr(getattr(workflow, "config_settings", None), "config", None) or {}
    nodes = getattr(getattr(workflow, "resource_settings", None), "nodes", None)
    try:
        return RunRequest(
            run_id=run_id,
            workflow_source=settings.coordinator_workflow_source or BUNDLED,
            snakefile=os.path.relpath(workflow.main_snakefile),
            targets=sorted(getattr(dag, "targets", ()) or ()),
            config={k: v for k, v in config.items() if isinstance(v, (str, int, float, bool))},
            storage_prefix=storage_prefix,
            tags=tags,
            **({"jobs": nodes} if isinstance(nodes, int) and 0 < nodes <= 100_000 else {}),
        )
    except ValueError as exc:
        raise WorkflowError(f"cannot start a coordinated run: {exc}") from exc


def start(plane: ControlPlane, clients: Clients, request: RunRequest) -> StartOutcome:
    if not plane.state_machine_arn:
        raise WorkflowError(
            "coordinator mode needs the stack's CoordinatorStateMachineArn output: set "
            "--aws-basic-batch-sls-stack to a stack deployed from this version's template.yaml"
        )
    runs = RunStore(clients("dynamodb"), plane.jobs_table)
    starter = RunStarter(None, clients("stepfunctions"), runs, plane.state_machine_arn)
    return starter.start(request.run_id or "", PLUGIN_TRIGGER, request)


def console_url(region: str, execution_arn: str) -> str:
    return f"https://{region}.console.aws.amazon.com/states/home?region={region}#/v2/executions/details/{execution_arn}"
