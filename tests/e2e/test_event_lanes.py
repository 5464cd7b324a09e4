"""A job's end is recorded at once even while a burst of other state changes waits to be recorded.

10,000 array children emit 30,000 RUNNABLE/STARTING/RUNNING events as they start; on one queue every
SUCCEEDED/FAILED event would wait behind them. The template routes a job's end to a queue of its own
(BatchTerminalStateRule -> TerminalEventsQueue) that the record function also reads. Here the whole
path runs: the deployed rules in the local EventBridge, the deployed queues, the record function's
workers (both event source mappings) and the jobs table.
"""

from __future__ import annotations

import uuid

from sls_contract import stack_outputs
from sls_contract.job_store import JobStore
from tests.support.events import put_events_entry, state_change
from tests.support.polling import wait_until

BACKLOG = 3000


def test_a_jobs_end_is_recorded_while_a_start_burst_still_waits(driver):
    cloud = driver.cloud
    table = cloud.deployment.outputs[stack_outputs.JOBS_TABLE_NAME]
    queue = cloud.deployment.outputs[stack_outputs.JOB_QUEUE_ARN]
    sqs, eventbridge = cloud.client("sqs"), cloud.client("events")
    state_url = cloud.deployment.outputs["StateEventsQueueUrl"]
    run_id = f"lanes-{uuid.uuid4().hex[:8]}"
    # GIVEN a start burst: BACKLOG RUNNING events of this stack's jobs, through the deployed rules
    burst = [
        put_events_entry(
            state_change("batch_job_running", run_id, f"job-started-{n:05d}", table=table, jobQueue=queue)
        )
        for n in range(BACKLOG)
    ]
    for start in range(0, len(burst), 10):
        assert eventbridge.put_events(Entries=burst[start : start + 10])["FailedEntryCount"] == 0
    # WHEN a job ends after the burst
    end = state_change("batch_job_succeeded", run_id, "job-that-ended", table=table, jobQueue=queue)
    assert eventbridge.put_events(Entries=[put_events_entry(end)])["FailedEntryCount"] == 0
    store = JobStore(cloud.client("dynamodb"), table)
    # THEN its record says SUCCEEDED while state changes sent before it still wait to be recorded
    wait_until(
        lambda: (
            (r := store.get_records(run_id, ["job-that-ended"]).get("job-that-ended"))
            and r.status == "SUCCEEDED"
        ),
        60,
    )
    # (not received yet: the events in the record workers' hands do not count)
    attributes = sqs.get_queue_attributes(QueueUrl=state_url, AttributeNames=["ApproximateNumberOfMessages"])
    assert int(attributes["Attributes"]["ApproximateNumberOfMessages"]) > 0, (
        "the burst drained first: the end waited behind it"
    )
    # and the burst is recorded too, nothing lost (then the cloud is idle for the next test)
    started = [f"job-started-{n:05d}" for n in range(BACKLOG)]
    wait_until(lambda: len(store.get_records(run_id, started)) == BACKLOG, 120, interval=1)
