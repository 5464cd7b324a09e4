"""Which ready jobs go to Batch as one array job (sls_contract/arrays.py says how an array runs).

Jobs the scheduler hands over together whose specs differ only in their command, Snakemake job id and
name (same rule, queue, job definition, image, resources, timeout, retry strategy, secrets, tags)
form a group; a group of at least `min_size` becomes arrays of up to 10,000 children, the rest are
submitted one by one as before.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sls_contract.arrays import bootstrap_command
from sls_contract.job_record import child_job_id
from sls_contract.limits import BATCH_ARRAY_SIZE, BATCH_JOB_NAME_MAX
from sls_contract.spec import ARRAY_SPEC_VERSION, JobSpec

# What may differ between the children of one array: everything else is the array's.
PER_CHILD_FIELDS = frozenset({"job_id", "job_name", "command", "snakemake_jobid"})


@dataclass(frozen=True)
class ArrayJob:
    spec: JobSpec  # what goes on the queue: array_size children, the bootstrap command
    members: list[JobSpec]  # the jobs' own specs, in index order
    children: list[JobSpec]  # the same, each with its child job id (the record key events find)


def _key(spec: JobSpec) -> str:
    return json.dumps(spec.model_dump(mode="json", exclude=set(PER_CHILD_FIELDS)), sort_keys=True)


def _array_name(first: JobSpec, array_id: str) -> str:
    suffix = f"-array-{array_id[:12]}"
    return first.job_name[: BATCH_JOB_NAME_MAX - len(suffix)] + suffix


def make_array(members: Sequence[JobSpec], python: str, region: str | None) -> ArrayJob:
    array_id = uuid.uuid4().hex
    children = [
        member.model_copy(update={"job_id": child_job_id(array_id, index)})
        for index, member in enumerate(members)
    ]
    first = members[0]
    spec = JobSpec.model_validate(
        {
            **first.model_dump(),
            "version": ARRAY_SPEC_VERSION,
            "job_id": array_id,
            "job_name": _array_name(first, array_id),
            "snakemake_jobid": array_id,
            "command": bootstrap_command(python, region),
            "array_size": len(members),
        }
    )
    return ArrayJob(spec, list(members), children)


def plan_arrays(
    specs: Sequence[JobSpec], min_size: int, python: str, region: str | None
) -> tuple[list[JobSpec], list[ArrayJob]]:
    """(specs submitted one by one, arrays). min_size 0: no arrays."""
    if min_size == 0:
        return list(specs), []
    groups: dict[str, list[JobSpec]] = {}
    for spec in specs:
        groups.setdefault(_key(spec), []).append(spec)
    singles: list[JobSpec] = []
    arrays: list[ArrayJob] = []
    largest = BATCH_ARRAY_SIZE[1]
    for members in groups.values():
        for start in range(0, len(members), largest):
            chunk = members[start : start + largest]
            if len(chunk) >= max(min_size, BATCH_ARRAY_SIZE[0]):
                arrays.append(make_array(chunk, python, region))
            else:
                singles.extend(chunk)
    return singles, arrays
