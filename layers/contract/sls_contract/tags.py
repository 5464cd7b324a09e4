"""Job tags: the user's `k=v,...` plus automatic run / rule / workflow tags, inside Batch's limits."""

from __future__ import annotations

import re

from . import limits

# Characters AWS accepts in tag values (ASCII form of "letters, digits, spaces and + - = . _ : / @").
_NOT_TAG_VALUE = re.compile(r"[^A-Za-z0-9 _.:/=+@-]")

RUN_ID_TAG = "snakemake:run-id"
RULE_TAG = "snakemake:rule"
WORKFLOW_TAG = "snakemake:workflow"
# Every job the stack submits carries it (value: the stack name), and the stack's IAM lets it terminate
# only jobs that do (aws:ResourceTag), so a job id from anywhere else is never stopped by this stack.
STACK_TAG = "aws-basic-batch-sls:stack"
AUTOMATIC_TAGS = (RUN_ID_TAG, RULE_TAG, WORKFLOW_TAG)  # the plugin's (job_tags)
_SET_FOR_YOU = (*AUTOMATIC_TAGS, STACK_TAG)  # the submit function adds STACK_TAG


def parse_tag_string(text: str | None) -> dict[str, str]:
    """'k=v,k2=v2' -> dict; values may contain '=' (the first one splits). Raises ValueError."""
    tags: dict[str, str] = {}
    for pair in (text or "").split(","):
        pair = pair.strip()
        if not pair:
            continue
        key, sep, value = pair.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise ValueError(f"tag {pair!r} is not key=value")
        if key.lower().startswith("aws:"):
            raise ValueError(f"tag key {key!r} uses the prefix 'aws:', which AWS reserves")
        if key in _SET_FOR_YOU:
            raise ValueError(f"tag key {key!r} is set automatically; choose another key")
        if len(key) > limits.BATCH_TAG_KEY_MAX:
            raise ValueError(f"tag key {key[:40]!r}... is longer than {limits.BATCH_TAG_KEY_MAX}")
        if len(value) > limits.BATCH_TAG_VALUE_MAX:
            raise ValueError(f"tag {key!r} has a value longer than {limits.BATCH_TAG_VALUE_MAX}")
        tags[key] = value
    room = limits.BATCH_TAGS_MAX - len(_SET_FOR_YOU)
    if len(tags) > room:
        raise ValueError(
            f"{len(tags)} tags given; Batch allows {limits.BATCH_TAGS_MAX} and "
            f"{len(_SET_FOR_YOU)} are automatic, so at most {room}"
        )
    return tags


def job_tags(user_tags: dict[str, str], run_id: str, rule: str, workflow: str) -> dict[str, str]:
    """User tags plus the automatic ones, made valid tag values: a group's rules "a,b" become "a b",
    other characters AWS refuses in a tag value become "_", and values are cut to Batch's limit."""
    automatic = {RUN_ID_TAG: run_id, RULE_TAG: rule, WORKFLOW_TAG: workflow}
    return {**user_tags, **{k: tag_value(v) for k, v in automatic.items()}}


def tag_value(text: str) -> str:
    return _NOT_TAG_VALUE.sub("_", text.replace(",", " "))[: limits.BATCH_TAG_VALUE_MAX]
