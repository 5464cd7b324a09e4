"""What the plugin checks about the workflow's DAG when the run starts, before any job is sent."""

from __future__ import annotations

from typing import Any

from .resources import Defaults, static_problems
from .streams import stream_problems


def _dag_rules(workflow: Any) -> set[Any]:
    """Every rule with a job in the DAG so far."""
    dag = getattr(workflow, "dag", None)
    return {job.rule for job in dag.jobs} if dag is not None else set()


def _planned_rules(rules: set[Any]) -> list[tuple[str, dict[str, Any]]]:
    """(name, resources given as plain values) of each rule."""
    planned = []
    for rule in sorted(rules, key=lambda r: r.name):
        resources = rule.resources or {}
        static = {
            name: resource.value
            for name, resource in resources.items()
            if not name.startswith("_") and not resource.is_evaluable()
        }
        planned.append((rule.name, static))
    return planned


def start_problems(workflow: Any, defaults: Defaults, storage_prefix: str | None) -> list[str]:
    """Every rule's plain resources and pipe() outputs: one message per problem, naming the rule."""
    rules = _dag_rules(workflow)
    return static_problems(_planned_rules(rules), defaults) + stream_problems(rules, storage_prefix)


def nothing_to_do(workflow: Any) -> bool:
    """Snakemake will say "Nothing to be done" (and never call the executor's shutdown)."""
    dag = getattr(workflow, "dag", None)
    return dag is not None and len(dag) == 0
