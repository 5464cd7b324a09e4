"""How fast the local cloud records Batch state changes into a table the size of a 10,000-job run.

Not a test: a measurement to profile the record path on its own, without Snakemake or Batch jobs.
It starts the local cloud as the benchmark does (DynamoDB in a process of its own), fills the jobs
table like a 10,000-child array run (each child's record and its command item, as the plugin writes
them), then puts N "Batch Job State Change" events on the default bus the way the local Batch does
(moto's EventBridge backend, in this process) and times the drain: EventBridge -> SQS -> record
workers (functions/record_state) -> DynamoDB. It prints events/s and the record workers' stats.

    .venv/bin/python -m bench.record_path --jobs 10000 --events 4000

Profile the DynamoDB process meanwhile with py-spy (its pid is printed), e.g.
``py-spy record -p PID -d 20 -f raw -o dynamodb.txt``.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
import uuid
from pathlib import Path

from localcloud.batch import BatchRuntimeConfig
from localcloud.cloud import LocalCloud
from sls_contract import stack_outputs
from sls_contract.arrays import child_items
from sls_contract.job_record import JOB_ID_ENV, RUN_ID_ENV, TABLE_ENV, child_job_id
from sls_contract.job_store import JobStore
from sls_contract.spec import JobSpec

STATUSES = ("RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED")


def fill(store: JobStore, run_id: str, array_job_id: str, jobs: int, queue: str) -> None:
    children = [
        JobSpec(
            run_id=run_id,
            job_id=child_job_id(array_job_id, index),
            workflow="wf",
            rule="sim",
            snakemake_jobid=index,
            job_name="sim",
            job_queue=queue,
            job_definition="jd",
            command=["python", "-c", f"print({index})"],
        )
        for index in range(jobs)
    ]
    store.put_items(child_items(children, array_job_id, 86400), concurrency=4)


def detail(run_id: str, array_job_id: str, table: str, queue: str, index: int, status: str) -> dict:
    now = int(time.time() * 1000)
    batch_id = f"{uuid.UUID(int=index)}:{index}"
    env = [
        {"name": RUN_ID_ENV, "value": run_id},
        {"name": JOB_ID_ENV, "value": array_job_id},
        {"name": TABLE_ENV, "value": table},
    ]
    attempts = (
        [{"container": {"exitCode": 0}, "startedAt": now, "stoppedAt": now}] if status == "SUCCEEDED" else []
    )
    return {
        "jobArn": f"arn:aws:batch:us-east-1:123456789012:job/{batch_id}",
        "jobName": "sim",
        "jobId": batch_id,
        "jobQueue": queue,
        "status": status,
        "attempts": attempts,
        "createdAt": now,
        "startedAt": now if status in ("RUNNING", "SUCCEEDED") else None,
        "stoppedAt": now if status == "SUCCEEDED" else None,
        "container": {"environment": env, "exitCode": 0 if status == "SUCCEEDED" else None},
        "arrayProperties": {"index": index},
    }


def time_queries(store: JobStore, run_id: str) -> None:
    """The plugin's status Query (by_update index) and reconcile's (live_jobs index), 3 times each."""
    from sls_contract.job_record import now_iso

    for name, query in (
        ("status Query, nothing changed", lambda: store.changed_since(run_id, now_iso())),
        ("status Query, every record", lambda: store.changed_since(run_id, "0")),
        ("reconcile's live-jobs Queries", lambda: store.stale_live_records(now_iso())),
    ):
        for _ in range(3):
            began = time.monotonic()
            found = len(query())
            print(f"{name}: {found} records in {1000 * (time.monotonic() - began):.0f} ms")


def queue_depth(url: str) -> int:
    """Messages not yet deleted, read in this process (moto's GetQueueAttributes scans the queue)."""
    from moto.sqs.models import sqs_backends

    queue = sqs_backends["123456789012"]["us-east-1"].queues[url.rsplit("/", 1)[-1]]
    return len(queue._messages)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=10000, help="children in the table (x2 items)")
    parser.add_argument("--events", type=int, default=4000, help="state changes to push")
    parser.add_argument("--rate", type=float, default=0.0, help="events/s to push at (0: all at once)")
    parser.add_argument("--workers", type=int, default=5, help="record workers (lambda_max_concurrency)")
    parser.add_argument("--queries", action="store_true", help="time the status and reconcile Queries too")
    parser.add_argument(
        "--hold", type=float, default=0.0, help="seconds to wait before pushing (attach py-spy)"
    )
    args = parser.parse_args(argv)

    from moto.events.models import events_backends

    config = BatchRuntimeConfig(simulate=True)
    with LocalCloud(batch_config=config, dynamodb_process=True, lambda_max_concurrency=args.workers) as cloud:
        outputs = cloud.deployment.outputs
        table, queue = outputs[stack_outputs.JOBS_TABLE_NAME], outputs[stack_outputs.JOB_QUEUE_ARN]
        store = JobStore(cloud.client("dynamodb"), table)
        run_id, array_job_id = "bench-run", "arrayjob0001"
        started = time.monotonic()
        fill(store, run_id, array_job_id, args.jobs, queue)
        print(f"filled {2 * args.jobs} items in {time.monotonic() - started:.1f} s")
        if args.queries:
            time_queries(store, run_id)
        sqs = cloud.client("sqs")
        # the record function's two queues: state events and terminal events
        urls = [u for u in sqs.list_queues()["QueueUrls"] if "Events" in u and "DeadLetter" not in u]
        assert cloud.dynamodb is not None and cloud.dynamodb.process is not None
        workers = next(procs for name, procs in cloud.lambdas.processes.items() if "Record" in name)
        pids = {"main": os.getpid(), "dynamodb": cloud.dynamodb.process.pid}
        print(f"pids: {pids}, record workers {[p.pid for p in workers]}", flush=True)
        pids.update({f"worker{n}": p.pid for n, p in enumerate(workers)})
        time.sleep(args.hold)
        bus = events_backends["123456789012"]["us-east-1"]
        # Children in order, each through its four states, spread over the children like a wave.
        plan = [(i % args.jobs, STATUSES[min(i // args.jobs, 3)]) for i in range(args.events)]
        pushed = threading.Event()
        push_seconds: list[float] = []

        def push() -> None:
            began = time.monotonic()
            for n, (index, status) in enumerate(plan):
                entry = {
                    "Source": "aws.batch",
                    "DetailType": "Batch Job State Change",
                    "Detail": json.dumps(detail(run_id, array_job_id, table, queue, index, status)),
                    "Resources": [],
                }
                bus.put_events([entry])
                if args.rate:
                    delay = began + (n + 1) / args.rate - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
            push_seconds.append(time.monotonic() - began)
            pushed.set()

        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        began = time.monotonic()
        threading.Thread(target=push, daemon=True).start()
        while not pushed.is_set() or any(queue_depth(url) > 0 for url in urls):
            time.sleep(0.2)
        elapsed = time.monotonic() - began
        cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in pids.items()}
        workers_cpu = sum(v for k, v in cpu.items() if k.startswith("worker"))
        stats = cloud.lambdas.stats()
        record = next((v for k, v in stats.items() if "Record" in k), {})
        print(
            f"{args.events} events over {args.jobs}-job table ({args.workers} record workers): "
            f"pushed in {push_seconds[0]:.1f} s, drained in {elapsed:.1f} s = {args.events / elapsed:.1f} events/s"
        )
        print(
            f"CPU seconds during the drain: main {cpu['main']:.1f} (incl. pushing), "
            f"dynamodb {cpu['dynamodb']:.1f}, record workers {workers_cpu:.1f}; per event: "
            f"main {1000 * cpu['main'] / args.events:.1f} ms, dynamodb {1000 * cpu['dynamodb'] / args.events:.1f} ms, "
            f"workers {1000 * workers_cpu / args.events:.1f} ms"
        )
        print(
            json.dumps({k: record.get(k) for k in sorted(record) if k not in ("worker_calls",)}, default=str)
        )


if __name__ == "__main__":
    main()
