"""template.yaml's functions and IAM statements, as the template tests read them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

FUNCTIONS = {"SubmitFunction": "submit_job", "RecordFunction": "record_state"}


# The queues each SQS-triggered function reads: job states other than a job's end, and its end, apart.
QUEUES_OF_FUNCTION = {
    "SubmitFunction": ("JobsQueue",),
    "RecordFunction": ("StateEventsQueue", "TerminalEventsQueue"),
}


ALL_FUNCTIONS = {
    **FUNCTIONS,
    "StartRunFunction": "start_run",
    "RunLifecycleFunction": "run_lifecycle",
    "ReconcileFunction": "reconcile",
}


def branches(value: Any) -> Iterator[Any]:
    """Every concrete value a template fragment can take (both sides of each Fn::If)."""
    if isinstance(value, dict) and set(value) == {"Fn::If"}:
        _condition, if_true, if_false = value["Fn::If"]
        yield from branches(if_true)
        yield from branches(if_false)
    elif isinstance(value, dict) and value == {"Ref": "AWS::NoValue"}:
        return
    else:
        yield value


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def policy_statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, res in template["Resources"].items():
        if res["Type"] != "AWS::IAM::Role":
            continue
        for policy in res["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                for concrete in branches(statement):
                    yield logical_id, concrete
