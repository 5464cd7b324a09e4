"""The custom CloudWatch metrics the functions emit through Powertools Metrics (EMF), by name.

Namespace: POWERTOOLS_METRICS_NAMESPACE (template.yaml Globals). Dimensions: ``service``
(POWERTOOLS_SERVICE_NAME, added by Powertools) and ``stack`` (the stack name, so two stacks in one
account keep their figures apart). No run or job id is a dimension: every distinct value is a metric
of its own (billed, and unbounded); logs carry them instead (correlation_id = run id).

template.yaml's alarms and dashboard name these; tests/unit/test_observability.py checks that every
metric they name is one of these (or an AWS/ metric) and that the handlers name metrics only from here.
"""

from __future__ import annotations

# Keyed by the enums' string values (sls_contract.submitter.Outcome, recorder.Recorded, status.JobStatus,
# run_record.RunStatus: StrEnums, so their members look these up), not by the enums themselves: the
# record and reconcile functions would otherwise import the submit function's modules at cold start.
# The unit tests check that every member has its name.
STACK_DIMENSION = "stack"

# --- submit function: one per job spec handled ---
SPEC_OUTCOMES: dict[str, str] = {
    "SUBMITTED": "SpecSubmitted",
    "DUPLICATE": "SpecDuplicate",
    "FAILED": "SpecFailed",
    "CANCELLED": "SpecCancelled",
}
SPEC_REJECTED = "SpecRejected"  # not a readable spec: recorded FAILED if it names a job, never retried
# Milliseconds from the spec's SendMessage (the SQS SentTimestamp) to Batch's SubmitJob answer,
# redeliveries included.
SUBMIT_LATENCY = "SubmitLatency"
JOBS_TERMINATED_AFTER_CANCEL = "JobsTerminatedAfterCancel"

# --- record function: one per state-change event handled ---
EVENT_OUTCOMES: dict[str, str] = {
    "APPLIED": "EventApplied",
    "STALE": "EventStale",
    "FOREIGN": "EventForeign",
    "UNREADABLE": "EventUnreadable",
    "SUPERSEDED": "EventSuperseded",
}
# Milliseconds from the event's time (EventBridge's "time": Batch's state change) to its record write.
EVENT_TO_RECORD_LAG = "EventToRecordLag"
# Jobs whose end was recorded from an event (once per job: a terminal record is final).
JOBS_FINISHED: dict[str, str] = {
    "SUCCEEDED": "JobsSucceeded",
    "FAILED": "JobsFailed",
}

# --- reconcile function: one of each per sweep or plugin request ---
JOBS_CHECKED = "JobsChecked"  # live jobs with no news, asked about with DescribeJobs
JOBS_RECONCILED = "JobsReconciled"  # records Batch's answer moved on: their events were lost or late
JOBS_LOST = "JobsLost"  # jobs Batch no longer knows, recorded FAILED

# --- runs ---
RUN_STARTED = "RunStarted"  # start function: a coordinator execution started
RUN_NOT_STARTED = "RunNotStarted"  # a duplicate trigger, or a request recorded FAILED with its reason
RUN_FINISHED: dict[str, str] = {  # run lifecycle function: the run's record was made final
    "SUCCEEDED": "RunSucceeded",
    "FAILED": "RunFailed",
    "ABORTED": "RunAborted",
}


_SINGLE = (
    SPEC_REJECTED,
    SUBMIT_LATENCY,
    JOBS_TERMINATED_AFTER_CANCEL,
    EVENT_TO_RECORD_LAG,
    JOBS_CHECKED,
    JOBS_RECONCILED,
    JOBS_LOST,
    RUN_STARTED,
    RUN_NOT_STARTED,
)


def emitted() -> set[str]:
    """Every custom metric name above."""
    names = set(_SINGLE)
    for mapping in (SPEC_OUTCOMES, EVENT_OUTCOMES, JOBS_FINISHED, RUN_FINISHED):
        names |= set(mapping.values())
    return names
