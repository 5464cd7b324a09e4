"""The local Batch's knobs the chaos suite turns (throttled TerminateJob(s), real jobs among simulated
ones, a tap on every state-change event as Batch emits it) and the SubmitJob payload quota."""

from __future__ import annotations

from typing import Any

from tests.support.aws_calls import ok_or_throttled


def _terminate(batch_setup: Any, job_ids: list[str]) -> str:
    return ok_or_throttled(lambda: batch_setup.batch.terminate_jobs(jobs=job_ids, reason="chaos"))


def test_terminate_throttle_rate_refuses_about_that_share_and_leaves_the_jobs_running(
    runtime_factory: Any, batch_setup: Any, wait: Any
) -> None:
    # GIVEN TerminateJob(s) throttled at 50% and a job that hangs
    runtime = runtime_factory(
        terminate_throttle_rate=0.5, seed=3, job_behaviour=[{"pattern": "hang-*", "hang": True}]
    )
    job_id = batch_setup.submit("hang-1", "true")
    wait(lambda: batch_setup.job(job_id)["status"] == "RUNNING")
    # WHEN TerminateJobs is called 60 times
    outcomes = [_terminate(batch_setup, [job_id]) for _ in range(60)]
    # THEN about half are refused with Batch's 429, counted by the gate
    throttled = outcomes.count("TooManyRequestsException")
    assert 18 <= throttled <= 42, throttled
    assert runtime.gate.terminate_throttled == throttled
    # AND the single-job TerminateJob is gated too; one accepted call ends the job
    single = [
        ok_or_throttled(lambda: batch_setup.batch.terminate_job(jobId=job_id, reason="chaos"))
        for _ in range(20)
    ]
    assert "TooManyRequestsException" in single and "ok" in single
    assert batch_setup.wait_done(job_id)["status"] == "FAILED"


def test_real_jobs_run_their_command_while_the_others_are_simulated(
    runtime_factory: Any, batch_setup: Any, tmp_path: Any
) -> None:
    # GIVEN simulated execution except for jobs named coordinator-*
    marker = tmp_path / "ran"
    runtime_factory(simulate=True, simulate_seconds=0, real_jobs=("coordinator-*",))
    # WHEN both kinds write the same marker file
    real = batch_setup.submit("coordinator-1", f"echo real >> {marker}")
    simulated = batch_setup.submit("work-1", f"echo simulated >> {marker}")
    # THEN both succeed and only the real one's command ran
    assert batch_setup.wait_done(real)["status"] == "SUCCEEDED"
    assert batch_setup.wait_done(simulated)["status"] == "SUCCEEDED"
    assert marker.read_text() == "real\n"


def test_on_event_sees_every_state_change_even_the_dropped_ones(
    runtime_factory: Any, batch_setup: Any, wait: Any
) -> None:
    # GIVEN every event dropped on its way to EventBridge, and a tap
    seen: list[dict[str, Any]] = []
    runtime_factory(simulate=True, simulate_seconds=0, event_drop_rate=1.0, on_event=seen.append)
    # WHEN a job runs to the end
    job_id = batch_setup.submit("tapped", "true")
    batch_setup.wait_done(job_id)
    # THEN the tap saw its whole path, as DescribeJobs details, and the queue got nothing
    statuses = wait(
        lambda: (s := [e["status"] for e in seen if e["jobId"] == job_id]) and s[-1] == "SUCCEEDED" and s
    )
    assert statuses == ["RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"]
    assert batch_setup.drain_events() == []


def test_a_submit_job_payload_over_30_kib_is_refused_as_aws_does(
    runtime_factory: Any, batch_setup: Any
) -> None:
    runtime_factory(simulate=True, simulate_seconds=0)
    try:
        batch_setup.submit("too-big", "echo " + "x" * 31_000)
    except batch_setup.batch.exceptions.ClientException as exc:
        assert "30 KiB" in str(exc)
    else:
        raise AssertionError("a 31 KB SubmitJob was accepted")
    assert (
        batch_setup.wait_done(batch_setup.submit("small-enough", "echo " + "x" * 20_000))["status"]
        == "SUCCEEDED"
    )
