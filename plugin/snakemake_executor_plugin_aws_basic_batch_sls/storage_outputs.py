"""What this (main) Snakemake process needs of a finished job's outputs in storage.

Jobs run in Batch and write their outputs to the default storage; nothing lands on this machine.
Two things a local run gets for free need help here:

1. Directory outputs. snakemake-storage-plugin-s3 (0.3.6, the newest) caches `is_dir()` in
   `StorageObject._is_dir` on the first call and never asks again. Snakemake asks when it builds the
   DAG, before the job ran: S3 holds nothing under the directory yet, the cached answer is False, and
   after the job uploaded the directory Snakemake's output check still gets False ("Missing files ...
   (missing in storage)"). Before a job is reported successful, a cached False on its directory
   outputs is forgotten, so the check lists the prefix again (at worst one extra S3 LIST per
   directory output; if the plugin stops caching or renames the attribute, this does nothing).
2. Checkpoint outputs. Input functions read them from disk (`glob_wildcards` over
   `checkpoints.NAME.get().output[0]`, or open() on a file the checkpoint wrote), as Snakemake's
   docs show, and they run twice: here, and again in the job that consumes them, which rebuilds its
   part of the DAG. With a local run the files are on disk; here neither process would have them.
   So a checkpoint job's outputs are retrieved from storage into Snakemake's local storage copies
   before the job is reported successful, and a later job whose wildcards agree with the
   checkpoint's first downloads them into its own local storage copies (a few lines of boto3,
   which the S3 storage plugin needs anyway, so a stock image can run it).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# Runs in the job before Snakemake: argv[1] is {"endpoint": URL or null, "items": [[s3 query, local path]]};
# an item is a key or (a directory output) every key under it.
_PREFETCH = """
import json, os, sys, boto3
spec = json.loads(sys.argv[1])
s3 = boto3.client("s3", endpoint_url=spec["endpoint"])
for query, local in spec["items"]:
    bucket, _, key = query[len("s3://"):].partition("/")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key):
        for obj in page.get("Contents", []):
            rest = obj["Key"][len(key):]
            if rest and not rest.startswith("/") and not key.endswith("/"):
                continue
            dest = os.path.join(local, rest.lstrip("/")) if rest else local
            os.makedirs(os.path.dirname(dest) or ".", exist_ok=True)
            s3.download_file(bucket, obj["Key"], dest)
"""


@dataclass(frozen=True)
class CheckpointOutput:
    query: str  # s3://bucket/key in the default storage
    local: str  # Snakemake's local copy, relative to the working directory
    wildcards: tuple[tuple[str, str], ...]  # the checkpoint job's wildcards
    endpoint_url: str | None


def _members(job: Any) -> Iterable[Any]:
    return job.jobs if job.is_group() else [job]


def _storage_outputs(job: Any) -> Iterable[Any]:
    for member in _members(job):
        for output in member.output:
            if getattr(output, "is_storage", False):
                yield member, output


def forget_stale_directory_state(job: Any) -> int:
    """Reset a cached `is_dir() == False` on the directory outputs of a job (or each job of a group)."""
    reset = 0
    for _, output in _storage_outputs(job):
        storage_object = output.storage_object
        if getattr(output, "is_directory", False) and getattr(storage_object, "_is_dir", None) is False:
            storage_object._is_dir = None
            reset += 1
    return reset


async def retrieve_checkpoint_outputs(job: Any) -> list[CheckpointOutput]:
    """Download a checkpoint job's storage outputs to their local copies; what was retrieved."""
    retrieved = []
    for member, output in _storage_outputs(job):
        if member.is_checkpoint:
            await output.retrieve_from_storage()
            storage_object = output.storage_object
            settings = getattr(storage_object.provider, "settings", None)
            retrieved.append(
                CheckpointOutput(
                    query=storage_object.query,
                    local=str(output),
                    wildcards=tuple(sorted((k, str(v)) for k, v in member.wildcards_dict.items())),
                    endpoint_url=getattr(settings, "endpoint_url", None),
                )
            )
    return retrieved


def _agrees(outputs: CheckpointOutput, wildcards: dict[str, str]) -> bool:
    return all(wildcards.get(name, value) == value for name, value in outputs.wildcards)


def prefetch_command(job: Any, finished: Iterable[CheckpointOutput], python: str = "python") -> str:
    """Shell command that downloads, in the job, the finished checkpoint outputs its input functions
    may read: those whose wildcards agree with the job's (a checkpoint without wildcards always does).
    Empty when the job needs none: its rules have no input functions, or no checkpoint finished yet."""
    wildcards: dict[str, str] = {}
    with_functions = False
    for member in _members(job):
        wildcards.update({k: str(v) for k, v in member.wildcards_dict.items()})
        with_functions |= any(callable(item) for item in member.rule.input)
    items = [o for o in finished if o.query.startswith("s3://") and _agrees(o, wildcards)]
    if not with_functions or not items:
        return ""
    spec = {"endpoint": items[0].endpoint_url, "items": [[o.query, o.local] for o in items]}
    return f"{python} -c {shlex.quote(_PREFETCH)} {shlex.quote(json.dumps(spec))}"
