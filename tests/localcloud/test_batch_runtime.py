"""The local Batch runtime over a moto server: lifecycle, events, logs, retries, limits and faults."""

from __future__ import annotations

import os
from typing import Any


def test_job_runs_its_command_and_succeeds_with_output_in_its_log_stream(
    runtime_factory: Any, batch_setup: Any
) -> None:
    runtime_factory()
    # WHEN a job echoes its environment
    job_id = batch_setup.submit(
        "hello",
        'echo "hi $FROM_DEFINITION $FROM_SUBMIT attempt=$AWS_BATCH_JOB_ATTEMPT id=$AWS_BATCH_JOB_ID"; pwd',
        containerOverrides={"environment": [{"name": "FROM_SUBMIT", "value": "sub"}]},
    )
    # THEN it succeeds and its stdout is in the attempt's log stream
    job = batch_setup.wait_done(job_id)
    assert job["status"] == "SUCCEEDED"
    assert job["statusReason"] == "Essential container in task exited"
    assert job["container"]["exitCode"] == 0
    stream = job["container"]["logStreamName"]
    assert stream.startswith(f"{batch_setup.job_definition}/default/")
    assert [a["container"]["logStreamName"] for a in job["attempts"]] == [stream]
    messages = [
        e["message"]
        for e in batch_setup.logs.get_log_events(logGroupName="/aws/batch/job", logStreamName=stream)[
            "events"
        ]
    ]
    assert messages[0] == f"hi jd sub attempt=1 id={job_id}"
    assert os.path.basename(messages[1]) == "attempt-1"
    env = job["container"]["environment"]
    assert env == [{"name": "FROM_DEFINITION", "value": "jd"}, {"name": "FROM_SUBMIT", "value": "sub"}]
    assert batch_setup.job(job_id)["container"]["environment"] == env  # no duplicates on re-describe
