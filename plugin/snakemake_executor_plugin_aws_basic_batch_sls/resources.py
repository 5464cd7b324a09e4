"""Per-rule aws_batch_* resources -> JobSpec fields; every resource of both AWS Batch plugins is accepted.

Every value is checked here, before anything is sent; errors name the rule and the resource.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from sls_contract.errors import explain
from sls_contract.limits import BATCH_JOB_NAME_MAX, BATCH_TIMEOUT_MIN_SECONDS
from sls_contract.spec import JobSpec, Secret

# resource name -> (JobSpec field it sets, what it means). The README's table is generated from this.
RESOURCES: dict[str, tuple[str, str]] = {
    "aws_batch_vcpu": ("vcpu", "vCPUs (default: the rule's threads). Fargate: 0.25, 0.5, 1, 2, 4, 8, 16"),
    "aws_batch_mem_mb": ("memory_mib", "memory in MiB (default: the rule's mem_mb, else 1024)"),
    "aws_batch_gpu": ("gpu", "GPUs (default: the rule's gpu / nvidia_gpu, else 0)"),
    "aws_batch_job_queue": ("job_queue", "job queue name or ARN (default: the stack's JobQueueArn)"),
    "aws_batch_job_definition": ("job_definition", "job definition name or ARN (default: the stack's)"),
    "aws_batch_task_timeout": (
        "timeout_seconds",
        "attempt timeout in seconds, >= 60 (default: Snakemake's `runtime` resource, minutes x 60)",
    ),
    "aws_batch_timeout": ("timeout_seconds", "alias of aws_batch_task_timeout (aws-batch plugin)"),
    "aws_batch_job_name_prefix": ("job_name", "job name prefix (default: snakejob)"),
    "aws_batch_job_name_suffix": ("job_name", "job name suffix, after the rule name"),
    "aws_batch_job_uuid": ("job_name", "identifier at the end of the job name (default: unique)"),
    "aws_batch_scheduling_priority": ("scheduling_priority", "schedulingPriorityOverride, 0-9999"),
    "aws_batch_share_identifier": ("share_identifier", "fair-share identifier (fair-share queues)"),
    "aws_batch_retry_strategy": (
        "retry_strategy",
        'JSON: {"attempts": 1-10, "evaluateOnExit": [<= 5 rules with action RETRY/EXIT and '
        "onExitCode / onReason / onStatusReason globs]}",
    ),
    "aws_batch_secrets": (
        "secrets",
        'JSON list of {"name", "valueFrom"}; merged with the global secrets setting, per rule wins',
    ),
    "aws_batch_consumable_resources": (
        "consumable_resources",
        'JSON list of {"consumableResource": NAME, "quantity": N}',
    ),
    "aws_batch_container_image": (
        "container_image",
        "container image for this rule (default: Snakemake's --container-image if set, else the job "
        "definition's)",
    ),
}

_FIELD_TO_RESOURCE = {field: name for name, (field, _) in reversed(RESOURCES.items())}
_NAME_PART = re.compile(r"^[A-Za-z0-9_-]+$")


class ResourceError(ValueError):
    """A rule's resource cannot become a Batch job; the message names the rule and the resource."""


@dataclass(frozen=True)
class Defaults:
    job_queue: str
    job_definition: str
    task_timeout: int | None
    secrets: tuple[Secret, ...]
    # Snakemake's --container-image when the user set one; None: the job definition's image.
    container_image: str | None = None


def _json_resource(rule: str, resources: dict[str, Any], name: str) -> Any:
    value = resources.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, (list, dict)):
        return value
    try:
        return json.loads(value)
    except (TypeError, ValueError) as exc:
        raise ResourceError(
            f"rule {rule}: resource {name} must be a JSON string (use json.dumps(...)): {exc}"
        ) from exc


def _number(rule: str, resources: dict[str, Any], name: str, kind: type) -> Any:
    value = resources.get(name)
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ResourceError(f"rule {rule}: resource {name}={value!r} is not a number") from exc
    if kind is int and not number.is_integer():
        raise ResourceError(f"rule {rule}: resource {name}={value!r} must be a whole number")
    return int(number) if kind is int else number


def _job_name(rule: str, resources: dict[str, Any], unique: str) -> str:
    parts = {
        "aws_batch_job_name_prefix": resources.get("aws_batch_job_name_prefix", "snakejob"),
        "aws_batch_job_name_suffix": resources.get("aws_batch_job_name_suffix"),
        "aws_batch_job_uuid": resources.get("aws_batch_job_uuid", unique),
    }
    for name, value in parts.items():
        if value is not None and not _NAME_PART.match(str(value)):
            raise ResourceError(
                f"rule {rule}: resource {name}={value!r} may only hold letters, digits, '-' and '_' "
                "(AWS Batch job names)"
            )
    prefix, suffix, ident = (str(v) if v is not None else None for v in parts.values())
    fixed = "-".join(p for p in (prefix, suffix, ident) if p)
    room = BATCH_JOB_NAME_MAX - len(fixed) - 1
    if room < 1:
        raise ResourceError(
            f"rule {rule}: the job name prefix, suffix and uuid are {len(fixed)} characters; "
            f"AWS Batch job names hold {BATCH_JOB_NAME_MAX}: shorten them"
        )
    rule_part = re.sub(r"[^A-Za-z0-9_-]", "_", rule)[:room]
    name = "-".join(p for p in (prefix, rule_part, suffix, ident) if p)
    if not name[0].isalnum():
        raise ResourceError(f"rule {rule}: job name {name!r} must start with a letter or digit")
    return name


def _timeout(rule: str, resources: dict[str, Any], default: int | None) -> int | None:
    """aws_batch_task_timeout / aws_batch_timeout (seconds), else Snakemake's `runtime` (minutes)."""
    task = _number(rule, resources, "aws_batch_task_timeout", int)
    alias = _number(rule, resources, "aws_batch_timeout", int)
    if task is not None and alias is not None and task != alias:
        raise ResourceError(
            f"rule {rule}: aws_batch_task_timeout={task} and aws_batch_timeout={alias} disagree; keep one"
        )
    if task is not None or alias is not None:
        return task if task is not None else alias
    runtime = _number(rule, resources, "runtime", int)
    if runtime is not None:
        if runtime < 1:
            raise ResourceError(
                f"rule {rule}: resource runtime={runtime!r} (minutes) is below AWS Batch's minimum "
                f"attempt timeout of {BATCH_TIMEOUT_MIN_SECONDS} s: use runtime=1 or more"
            )
        return runtime * 60
    return default


def _vcpu(rule: str, resources: dict[str, Any]) -> float | None:
    vcpu = _number(rule, resources, "aws_batch_vcpu", float)
    if vcpu is not None and vcpu <= 0:
        # Snakemake rounds a float resource to a whole number when the Snakefile is read
        # (round(0.25) == round(0.5) == 0), so a Fargate fraction written as a number arrives as 0.
        raise ResourceError(
            f"rule {rule}: resource aws_batch_vcpu={resources.get('aws_batch_vcpu')!r} must be above 0. "
            "Snakemake rounds numeric resources to whole numbers, so 0.25 and 0.5 arrive as 0: "
            'write fractional Fargate vCPUs as strings, e.g. aws_batch_vcpu="0.25"'
        )
    return vcpu


def _merged_secrets(rule: str, resources: dict[str, Any], default: tuple[Secret, ...]) -> list[Any]:
    per_rule = _json_resource(rule, resources, "aws_batch_secrets") or []
    if not isinstance(per_rule, list):
        raise ResourceError(f"rule {rule}: resource aws_batch_secrets must be a JSON list")
    merged: dict[str, Any] = {s.name: s.model_dump() for s in default}
    for entry in per_rule:
        name = entry.get("name") if isinstance(entry, dict) else None
        merged[str(name)] = entry
    return list(merged.values())


def spec_fields(
    rule: str,
    threads: int,
    resources: dict[str, Any],
    defaults: Defaults,
    unique: str,
    name_part: str | None = None,
) -> dict[str, Any]:
    """The resource-derived part of a JobSpec (raises ResourceError).

    `rule` names the job in messages; `name_part` (default: `rule`) goes into the Batch job name.
    """
    vcpu = _vcpu(rule, resources)
    mem = _number(rule, resources, "aws_batch_mem_mb", int)
    gpu = _number(rule, resources, "aws_batch_gpu", int)
    fallback_gpu = resources.get("gpu", resources.get("nvidia_gpu", 0)) or 0
    return {
        "vcpu": vcpu if vcpu is not None else max(1, threads),
        "memory_mib": mem if mem is not None else int(float(resources.get("mem_mb") or 1024)),
        "gpu": gpu if gpu is not None else int(float(fallback_gpu)),
        "job_queue": resources.get("aws_batch_job_queue") or defaults.job_queue,
        "job_definition": resources.get("aws_batch_job_definition") or defaults.job_definition,
        "timeout_seconds": _timeout(rule, resources, defaults.task_timeout),
        "job_name": _job_name(name_part or rule, resources, unique),
        "scheduling_priority": _number(rule, resources, "aws_batch_scheduling_priority", int),
        "share_identifier": resources.get("aws_batch_share_identifier"),
        "retry_strategy": _json_resource(rule, resources, "aws_batch_retry_strategy"),
        "secrets": _merged_secrets(rule, resources, defaults.secrets),
        "consumable_resources": _json_resource(rule, resources, "aws_batch_consumable_resources") or [],
        "container_image": resources.get("aws_batch_container_image") or defaults.container_image,
    }


def build_spec(rule: str, fields: dict[str, Any], resources: dict[str, Any]) -> JobSpec:
    """Validate a complete spec; a failure names the rule and the resource that caused it."""
    try:
        return JobSpec(**fields)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            field = str(err["loc"][0]) if err["loc"] else ""
            resource = _FIELD_TO_RESOURCE.get(field)
            where = ".".join(str(p) for p in err["loc"])
            if resource:
                shown = resources.get(resource)
                problems.append(f"resource {resource}={shown!r}: {where}: {explain(err, JobSpec)}")
            else:
                problems.append(f"{where}: {explain(err, JobSpec)}")
        raise ResourceError(f"rule {rule}: " + "; ".join(problems)) from exc


def static_problems(rules: Iterable[tuple[str, dict[str, Any]]], defaults: Defaults) -> list[str]:
    """Errors in the resources rules set to plain values, one per rule, before any job is sent.

    `rules` holds (rule name, its resources that are not functions); resources given as functions are
    checked when Snakemake evaluates them for a job.
    """
    problems = []
    placeholder = "0" * 32
    for rule, resources in rules:
        try:
            fields = spec_fields(rule, 1, resources, defaults, unique=placeholder)
            fields.update(
                run_id="check",
                job_id=placeholder,
                workflow="check",
                rule=rule,
                snakemake_jobid=0,
                command=["-"],
            )
            build_spec(rule, fields, resources)
        except ResourceError as exc:
            problems.append(str(exc))
    return problems


def distinct(problems: Iterable[str]) -> list[str]:
    """Each problem once, in first-seen order, with how many jobs had it."""
    counts: dict[str, int] = {}
    for problem in problems:
        counts[problem] = counts.get(problem, 0) + 1
    return [f"{problem} ({n} jobs)" if n > 1 else problem for problem, n in counts.items()]
