"""The fixed prose of the 10,000-job section of bench/RESULTS.md: what sets its figures on the local
cloud, and what a report without that part says of it (bench/scale.py renders the figures)."""

from __future__ import annotations

MAKESPAN_NOTE = (
    "What sets the makespan at this size is what each job costs after it ends, not the hand-off: "
    'Snakemake\'s post-processing ("jobs Snakemake was told ended, per second"), about 4 state '
    'changes per job through the record path ("terminal records written per second") and, here, '
    "the simulated job's output write, all on the same 2 cores. With one SubmitJob all children are "
    "in Batch within seconds, so they all end together and queue behind that work; one SubmitJob per "
    "job spreads the same work over its hand-off, during which the pipeline keeps up. When Snakemake's "
    "post-processing of all the jobs takes about as long as the per-job hand-off (10,000 jobs at 20-30 "
    "ms each against the 200 s floor), the two makespans come out alike. The makespan "
    "target assumes the hand-off dominates; on this machine it does not, and Snakemake's own "
    "post-processing pace (its S3 checks, one job at a time) would also pace any executor on AWS, "
    "where each of those calls is a network round trip (not measured here)."
)


def local_cloud_notes(n: int) -> list[str]:
    """Where the local cloud (or Snakemake), not the design, sets a figure of the N-job runs."""
    return [
        f"Where the local cloud, not the design, sets a {n:,}-job figure:",
        "",
        "- Snakemake itself: building the DAG of the scatter and scheduling its jobs takes the time in "
        '"Snakemake before its first hand-off call" above (from the process\'s start). Most of it is '
        "Snakemake's S3 storage plugin asking about each of the 10,000 missing outputs (a HeadObject, "
        "then a ListObjects to see whether it is a directory), one call at a time, against the moto "
        "process; after each job it checks the job's output the same way. Both runs, and any executor, "
        "pay it; Snakemake's `--max-jobs-per-timespan` is raised for the benchmark, so it does not ration "
        "the hand-off.",
        "- Snakemake again, not the local cloud: its main thread post-processes finished jobs (each job's "
        'output checked in S3: the row "Snakemake\'s post-processing of a finished job" gives its time and calls) while holding its scheduler lock, and '
        "report_job_success, the call by which any executor tells Snakemake a job ended, waits for that "
        'lock. When thousands of jobs end together the status round waits inside it (the row "inside '
        "Snakemake's report_job_success\", where the probe measured it; a long status round with few API "
        'calls is such a wait), so "recorded -> noticed" at this size is Snakemake\'s post-processing '
        "pace. On AWS its S3 calls are network round trips too, so it would pace any executor there (not measured).",
        "- moto's SQS walked a queue's whole message list for every ReceiveMessage (reading the clock for "
        "each message) and twice per entry of every DeleteMessageBatch. When 10,000 children change state "
        "together the events queue holds tens of thousands of messages. In a first 10,000-job run (with "
        "arrays) a py-spy sample of the moto process showed ReceiveMessage in 39% of it (the scan 14%, "
        "the clock reads 13%) and DeleteMessageBatch in 12%; children's events were recorded minutes "
        "late, the plugin asked the reconcile function about 8,565 jobs without news for 300 s, and "
        "Snakemake noticed about 110 jobs a minute (its S3 checks wait on the same process). "
        "`localcloud/moto_sqs.py` now reads the clock once per call and walks the queue once per batch "
        "(same answers, tested); the figures above are from after that change.",
        "- The array run writes 2 items per child (its record and its command) with BatchWriteItem, 25 "
        'items a call, up to 8 calls at once, before the spec goes: the "first hand-off call -> first '
        "spec sent\" row. moto's DynamoDB is one Python process here; on AWS those calls are a few "
        "milliseconds each and the table scales out.",
        "- The record function's workers (5 here, the template's concurrency capped by the local cloud) "
        "write one conditional UpdateItem per state change to the one moto DynamoDB process (which also "
        "answers the plugin's status Query), on 2 cores "
        "shared with moto, Snakemake, the local Batch and the benchmark's output writer: \"terminal "
        'records written per second" above is the pace they kept. About 4 state changes per child '
        "(RUNNABLE, STARTING, RUNNING, SUCCEEDED; a later event in the same batch supersedes an earlier "
        "one) make a backlog when 10,000 children move together, so records fall minutes behind Batch "
        '("terminal -> recorded"), the plugin asks the reconcile function about jobs with no news for '
        "300 s (each asynchronous invocation is a process of its own here, loading the machine further), "
        "and detection at 10,000 active jobs is set by that backlog and by Snakemake's post-processing "
        "(above), not by the plugin's status reads (one Query per round). On AWS the function scales out "
        "and each write takes milliseconds. With arrays a burst forms at the start, before any child "
        "ends: the children's RUNNABLE, STARTING and RUNNING events (3 per child, 30,000 for 10,000 "
        "children as the array starts). On one queue every terminal event waited behind them (in the "
        "2026-12-02 11:57 run the first 1% of jobs to end waited 179 s for their record); terminal events "
        "now have a queue of their own (BatchTerminalStateRule -> TerminalEventsQueue, read by the same "
        'function), so the row "the first 1% of jobs to end" shows the start burst no longer in their way, '
        'on AWS as here. What remains of "terminal -> recorded" is the end burst itself: 10,000 SUCCEEDED '
        "events written at the pace above.",
        "- The local Batch ends each simulated job with a success callback (the benchmark's output writer: "
        "for an array child a GetItem of its command, then the job's output put in the local S3), 8 at a "
        'time, so children that end together reach SUCCEEDED over a while: "first to last job terminal '
        'in Batch". (Before, these callbacks ran one at a time on the thread that also delivered the '
        "state-change events, so every SUCCEEDED event of a 10,000-child array waited for all the "
        "callbacks: records stayed RUNNING for minutes and detection measured that queue.)",
        "",
    ]


def not_run() -> list[str]:
    """What a report without the scale part says of it (its targets are not judged there)."""
    return [
        f"**Not in this report: the {10_000:,}-job scatter** (`python -m bench --only 10k`), so its four targets "
        "(hand-off with arrays, status calls per round, detection and makespan at 10,000 active jobs) are not "
        "judged here. The two runs (with arrays and without) take about 25 minutes on this machine, most of "
        "it Snakemake's own: its storage checks of each job's output against the local S3, one job at a time. "
        "Its last measurement (2026-12-02 15:46, in a whole `make bench`): all 10,000 jobs in Batch 6.3 s "
        "after the first hand-off call with 1 SubmitJob (0.032x the 200 s floor of one call per job at 50 TPS; "
        "one by one took 245 s here); 0.1 status calls per 1,000 active jobs; detection 122 s and makespan "
        "0.99x of one by one, both set by the work after each job ends (Snakemake's post-processing, 25-26 "
        "ms a job under its scheduler lock, and the local record path's pace), not by the plugin's reads.",
        "",
    ]
