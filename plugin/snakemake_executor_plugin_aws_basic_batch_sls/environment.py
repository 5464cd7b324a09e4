"""The environment a job gets: Snakemake's envvars() minus anything that looks like a credential.

Snakemake hands storage settings to executors this way, access keys included. In a Batch job they
would sit in plaintext in DescribeJobs and in every state-change event; on AWS jobs use their job role,
and real secrets go through aws_batch_secrets (Secrets Manager / SSM).
"""

from __future__ import annotations

import re

_SECRET_NAME = re.compile(
    r"SECRET|PASSWORD|PASSWD|TOKEN|ACCESS_KEY|ACCESSKEY|PRIVATE|CREDENTIAL|API_KEY|APIKEY|SESSION|AUTH",
    re.IGNORECASE,
)
# Values that are credentials whatever the variable is called: AWS access key ids, PEM keys.
_SECRET_VALUE = re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b|-----BEGIN [A-Z ]*PRIVATE KEY-----")


def split_environment(envvars: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """(what the job may see, sorted names withheld)."""
    kept: dict[str, str] = {}
    withheld: list[str] = []
    for name, value in envvars.items():
        if _SECRET_NAME.search(name) or _SECRET_VALUE.search(value or ""):
            withheld.append(name)
        else:
            kept[name] = value
    return kept, sorted(withheld)
