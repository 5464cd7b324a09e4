"""What a Snakemake job is called in specs, records, tags and Batch job names, single or group."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class JobIdentity:
    rule: str  # the rule; for a group job its rules, sorted and comma-separated ("a,b")
    group: str | None  # Snakemake's group id, for a group job
    name_part: str  # what the Batch job name carries: the rule or the group id
    label: str  # how messages name the job: "rule a" or "group g (rules a, b)"


def identify(job: Any) -> JobIdentity:
    """A group job (rules with `group:`) runs as one Batch job, as with the aws-basic-batch plugin."""
    if job.is_group():
        # GroupJob.rules holds rule names; the interface documents rule objects: accept both.
        rules = sorted({getattr(rule, "name", rule) for rule in job.rules})
        group = str(job.groupid)
        return JobIdentity(",".join(rules), group, group, f"group {group} (rules {', '.join(rules)})")
    return JobIdentity(job.name, None, job.name, f"rule {job.name}")
