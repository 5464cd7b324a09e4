"""Lambda configuration from the environment template.yaml sets (pydantic-settings).

Its import is about 40 ms of every function's init (bench/RESULTS.md, "Handlers"): kept, since reading
the environment is what the library is for (the project uses the well-kept library over its own code).
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class FunctionSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

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
