"""The local Batch runtime's limits and faults: vCPU concurrency, SubmitJob throttling and quotas, event
faults, the simulated mode at scale, concurrent reads."""

from __future__ import annotations

import threading
import time
from typing import Any

from tests.support.aws_calls import ok_or_throttled


def test_concurrency_never_exceeds_the_compute_environment_vcpus(
    runtime_factory: Any, batch_setup: Any, tmp_path: Any, wait: Any
) -> None:
    runtime_factory()
    marks = tmp_path / "marks"
    marks.mkdir()
    gate = tmp_path / "gate"
    # each job records its start and end; with maxvCpus 2 at most two may overlap. The first two hold
    # their slots until every job is submitted (the gate), so "urgent" is waiting when a slot frees
    # however slowly the submissions went.
    script = (
        f'echo "$(date +%s%N) 1" >> {marks}/log; until [ -e {gate} ]; do sleep 0.05; done; sleep 0.1; '
        f'echo "$(date +%s%N) -1" >> {marks}/log'
    )
    ids = [batch_setup.submit(f"par-{i}", script) for i in range(6)]
    priority = batch_setup.submit("urgent", script, schedulingPriorityOverride=10)
    wait(lambda: sum(batch_setup.job(i)["status"] == "RUNNING" for i in ids) == 2)
    wait(lambda: batch_setup.job(priority)["status"] == "RUNNABLE")
    gate.touch()
    jobs = [batch_setup.wait_done(job_id) for job_id in [*ids, priority]]
    assert {j["status"] for j in jobs} == {"SUCCEEDED"}
    level, peak = 0, 0
    for line in sorted(
        (marks / "log").read_text().splitlines(), key=lambda s: (int(s.split()[0]), int(s.split()[1]))
    ):
        level += int(line.split()[1])
        peak = max(peak, level)
    assert peak == 2
    started = sorted(jobs, key=lambda j: j["startedAt"])
    assert started[2]["jobId"] == priority  # first to start once two slots were taken


def test_submit_throttle_rate_throttles_about_that_fraction(runtime_factory: Any, batch_setup: Any) -> None:
    runtime_factory(submit_throttle_rate=0.3, seed=7, simulate=True, simulate_seconds=0, event_drop_rate=1.0)
    outcomes = [_try_submit(batch_setup, f"thr-{i}") for i in range(100)]
    throttled = outcomes.count("TooManyRequestsException")
    assert 20 <= throttled <= 40
    assert set(outcomes) == {"ok", "TooManyRequestsException"}


def test_submit_tps_token_bucket_refills_at_the_quota() -> None:
    from localcloud.batch.config import BatchRuntimeConfig
    from localcloud.batch.faults import SubmitGate, TooManyRequestsException

    now = [100.0]
    gate = SubmitGate(BatchRuntimeConfig(submit_tps=50), clock=lambda: now[0])

    def admitted(calls: int) -> int:
        count = 0
        for _ in range(calls):
            try:
                gate.check()
                count += 1
            except TooManyRequestsException:
                pass
        return count

    assert admitted(80) == 50  # a full bucket: one second's worth, then 429s
    now[0] += 0.5
    assert admitted(80) == 25  # refills at 50 per second
    now[0] += 10.0
    assert admitted(80) == 50  # never holds more than one second's worth


def test_submit_tps_quota_throttles_a_burst(runtime_factory: Any, batch_setup: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    # A quota low enough that any machine submits faster than it: 40 calls would need 7 s to all pass.
    tps = 5
    runtime_factory(submit_tps=tps, simulate=True, simulate_seconds=0, event_drop_rate=1.0)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(lambda i: _try_submit(batch_setup, f"tps-{i}"), range(40)))
    elapsed = time.monotonic() - started
    accepted = outcomes.count("ok")
    assert set(outcomes) <= {"ok", "TooManyRequestsException"}
    assert accepted >= tps
    assert accepted <= tps + tps * elapsed + 1, (accepted, elapsed)
    assert outcomes.count("TooManyRequestsException") > 0


def _try_submit(batch_setup: Any, name: str) -> str:
    return ok_or_throttled(lambda: batch_setup.submit(name, "true"))


def test_event_faults_change_what_the_queue_receives_deterministically(
    runtime_factory: Any, batch_setup: Any, wait: Any
) -> None:
    from localcloud.batch import expected_delivery

    # GIVEN duplicate, reorder and drop knobs with a fixed seed
    runtime = runtime_factory(
        seed=3,
        event_duplicate_rate=0.4,
        event_reorder_rate=0.4,
        event_drop_rate=0.2,
        reorder_hold_seconds=0.2,
    )
    names = [f"faulty-{i}" for i in range(6)]
    ids = {name: batch_setup.submit(name, "true") for name in names}
    for job_id in ids.values():
        batch_setup.wait_done(job_id)
    path = [("RUNNABLE", 1), ("STARTING", 1), ("RUNNING", 1), ("SUCCEEDED", 1)]
    expected = {name: expected_delivery(runtime.config, name, path) for name in names}
    total = sum(len(statuses) for statuses in expected.values())
    # THEN each job's events arrive exactly as the seeded plan says: some twice, some late, some never
    wait(lambda: len(batch_setup.drain_events()) >= total)
    received = {name: batch_setup.statuses(job_id) for name, job_id in ids.items()}
    assert received == expected
    assert total != 4 * len(names)  # the knobs did change something
    assert any(statuses != sorted(statuses, key=[s for s, _ in path].index) for statuses in expected.values())


def test_simulated_mode_runs_a_thousand_jobs_in_seconds(
    runtime_factory: Any, batch_setup: Any, wait: Any
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    succeeded: list[str] = []
    runtime_factory(
        simulate=True, simulate_seconds=1.0, on_simulated_success=lambda job: succeeded.append(job["jobId"])
    )
    # events are still put on the bus, but not into SQS: moto's SQS slows down as a queue grows
    batch_setup.events.remove_targets(Rule=batch_setup.rule, Ids=["sqs"])
    batch = batch_setup.batch
    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(lambda i: batch_setup.submit(f"sim-{i}", "exit 1"), range(1000)))
    wait(lambda: len(succeeded) == 1000, timeout=30)
    listed = batch.list_jobs(jobQueue=batch_setup.queue_name, jobStatus="SUCCEEDED")["jobSummaryList"]
    assert {j["jobId"] for j in listed} == set(ids) == set(succeeded)


def test_a_slow_success_callback_holds_back_no_other_job(runtime_factory: Any, batch_setup: Any) -> None:
    # GIVEN simulated execution whose success callback blocks for one job (a slow output write)
    release = threading.Event()

    def on_success(job: dict[str, Any]) -> None:
        if job["jobName"] == "slow":
            release.wait(30)

    runtime_factory(simulate=True, simulate_seconds=0.1, on_simulated_success=on_success)
    try:
        slow = batch_setup.submit("slow", "true")
        # WHEN other jobs end while that callback still runs
        others = [batch_setup.submit(f"other-{i}", "true") for i in range(3)]
        # THEN they reach SUCCEEDED and their events reach the queue, the slow one still RUNNING
        for job_id in others:
            batch_setup.wait_event(job_id, "SUCCEEDED")
        assert batch_setup.job(slow)["status"] == "RUNNING"
    finally:
        release.set()
    assert batch_setup.wait_event(slow, "SUCCEEDED")[-1] == "SUCCEEDED"


def test_events_go_out_while_the_job_scheduler_is_busy(runtime_factory: Any, batch_setup: Any) -> None:
    # GIVEN a job whose success callback, as it ends, occupies the job scheduler's thread (as a backlog
    # of due timers does when thousands of array children end together)
    release, busy = threading.Event(), threading.Event()
    runtime: Any = None

    def block_scheduler() -> None:
        busy.set()
        release.wait(30)

    def on_success(job: dict[str, Any]) -> None:
        runtime.engine.scheduler.call_soon(block_scheduler)
        assert busy.wait(10)

    runtime = runtime_factory(simulate=True, simulate_seconds=0.1, on_simulated_success=on_success)
    try:
        job_id = batch_setup.submit("ends-while-busy", "true")
        # THEN its SUCCEEDED event is delivered without waiting for the job scheduler
        assert batch_setup.wait_event(job_id, "SUCCEEDED")[-1] == "SUCCEEDED"
        assert not release.is_set()
    finally:
        release.set()


def test_describe_jobs_survives_a_submit_while_it_reads(
    runtime_factory: Any, batch_setup: Any, monkeypatch: Any
) -> None:
    # GIVEN jobs, and a SubmitJob landing (as from another request thread) while DescribeJobs reads them
    from moto.batch.models import Job, batch_backends

    from localcloud.endpoint import ACCOUNT, REGION

    runtime_factory(simulate=True, simulate_seconds=60)
    ids = [batch_setup.submit(f"reader-{i}", "true") for i in range(3)]
    backend = batch_backends[ACCOUNT][REGION]
    job_describe = Job.describe
    landed: list[str] = []

    def describe_while_submitting(self: Job) -> dict[str, Any]:
        if not landed:
            landed.append("late")
            backend._jobs["late-arrival"] = self  # what handle_submit does in its own thread
        return job_describe(self)

    monkeypatch.setattr(Job, "describe", describe_while_submitting)
    try:
        # WHEN all jobs are described, and some by id and by ARN
        everything = batch_setup.batch.describe_jobs(jobs=[])["jobs"]
        arn = batch_setup.job(ids[1])["jobArn"]
        chosen = batch_setup.batch.describe_jobs(jobs=[ids[0], arn, ids[0], "no-such-job"])["jobs"]
    finally:
        backend._jobs.pop("late-arrival", None)
    # THEN no 500: every job is there once, and lookups by id and ARN find just those jobs
    assert landed
    assert set(ids) <= {job["jobId"] for job in everything}
    assert sorted(job["jobId"] for job in chosen) == sorted([ids[0], ids[1]])
