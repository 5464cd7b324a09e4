"""Lambda configuration from the environment template.yaml sets.

What pydantic-settings' BaseSettings did here, without importing it: each field from the environment
variable of the same name (case-insensitive), keyword arguments first, values validated by pydantic
(so "30" is an int and a missing required variable is a ValidationError), other variables ignored.
Importing pydantic-settings cost every function's cold start about 40 ms (its CLI and cloud secret
sources, python-dotenv), for five plain str/int fields.
"""

from __future__ import annotations

import os
from typing import Any

from pydantic import BaseModel, ConfigDict


class FunctionSettings(BaseModel):
    model_config = ConfigDict(extra="ignore")

    jobs_table_name: str
    record_ttl_days: int = 30
    submit_max_receive_count: int = 5
    derived_job_definition_prefix: str = "aws-basic-batch-sls-derived"
    # Every function (Globals): the submit and lifecycle functions tag jobs with it (tags.STACK_TAG).
    stack_name: str = ""
    # Run functions only (template.yaml sets it on those).
    state_machine_arn: str = ""
    # Reconcile function: a non-terminal job with no news for this long is checked with Batch.
    reconcile_after_seconds: int = 900

    def __init__(self, **values: Any) -> None:
        environment = {name.lower(): value for name, value in os.environ.items()}
        found = {name: environment[name] for name in type(self).model_fields if name in environment}
        super().__init__(**{**found, **values})
