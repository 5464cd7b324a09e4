"""Flags and environment variables of the two AWS Batch plugins we replace: named, never ignored silently.

A command line or shell set up for snakemake-executor-plugin-aws-basic-batch or -aws-batch keeps
working with this plugin only where a setting carries over; any of their settings that is set gets a
warning naming this plugin's equivalent (or saying there is none, and why).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

OURS = "aws-basic-batch-sls"

# Their setting (flag suffix) -> what to use here.
EQUIVALENTS: dict[str, str] = {
    "region": f"--{OURS}-region",
    "job-queue": f"--{OURS}-job-queue",
    "job-definition": f"--{OURS}-job-definition",
    "task-timeout": f"--{OURS}-task-timeout",
    "tags": f"--{OURS}-tags",
    "secrets": f"--{OURS}-secrets",
    "coordinator": f"--{OURS}-coordinator",
    "coordinator-queue": "the stack parameter CoordinatorJobQueueArn",
    "coordinator-job-definition": "the stack parameter CoordinatorJobDefinitionArn",
    "job-role": "the job role of your job definition (stack parameters JobDefinitionArn, JobRoleArns)",
    "execution-role": "the execution role of your job definition (stack parameter JobDefinitionArn)",
}
_NO_EQUIVALENT = (
    f"no equivalent here (see README, 'Coming from another AWS Batch plugin'); --{OURS}-stack gives the rest"
)

_FLAG = re.compile(r"^--(aws-basic-batch|aws-batch)-([a-z0-9-]+)")
_ENV = re.compile(r"^SNAKEMAKE_(AWS_BASIC_BATCH|AWS_BATCH)_([A-Z0-9_]+)$")


def foreign_settings(argv: Iterable[str], environ: Mapping[str, str]) -> list[str]:
    """One warning line per setting of another AWS Batch plugin found on the command line or set."""
    found: dict[tuple[str, str], str] = {}
    for arg in argv:
        match = _FLAG.match(arg)
        if match and not arg.startswith(f"--{OURS}-"):
            found.setdefault((match[1], match[2]), arg.split("=", 1)[0])
    for name, value in environ.items():
        match = _ENV.match(name)
        if match and not name.startswith("SNAKEMAKE_AWS_BASIC_BATCH_SLS_") and value != "":
            plugin = match[1].lower().replace("_", "-")
            found.setdefault((plugin, match[2].lower().replace("_", "-")), name)
    return [
        f"{where} belongs to the {plugin} plugin and is ignored by {OURS}: use {EQUIVALENTS.get(setting, _NO_EQUIVALENT)}"
        for (plugin, setting), where in sorted(found.items())
    ]
