"""AWS Batch array jobs in the local Batch runtime: ids, limits, the parent's status and summary, each
child's lifecycle, events, retries, timeouts and environment, TerminateJob, ListJobs and DescribeJobs."""

from __future__ import annotations

import os
import time
from collections import defaultdict
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.aws_calls import ok_or_throttled

FINAL = ("SUCCEEDED", "FAILED")
ALL_STATUSES = ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED")
CHILD_PATH = ["RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"]


def _array(batch_setup: Any, name: str, command: str, size: int, **kwargs: Any) -> str:
    return batch_setup.submit(name, command, arrayProperties={"size": size}, **kwargs)


def wait_for_token(submit: Any, timeout: float = 5.0) -> str:
    """Submit once the quota has a token again (each throttled try is one more quota check)."""
    from tests.support.polling import wait_until

    result: list[str] = []
    wait_until(lambda: ok_or_throttled(lambda: result.append(submit())) == "ok", timeout)
    return result[0]


def _summary(**counts: int) -> dict[str, int]:
    return {status: counts.get(status, 0) for status in ALL_STATUSES}


class Tap:
    """The runtime's on_event hook: every state change's detail, as Batch emits it."""

    def __init__(self) -> None:
        self.details: list[dict[str, Any]] = []

    def __call__(self, detail: dict[str, Any]) -> None:
        self.details.append(detail)

    def statuses(self, job_id: str) -> list[str]:
        return [d["status"] for d in self.details if d["jobId"] == job_id]

    def position(self, job_id: str, status: str) -> int:
        return next(i for i, d in enumerate(self.details) if d["jobId"] == job_id and d["status"] == status)


def test_submit_creates_a_parent_and_children_with_aws_ids_arns_and_settings(
    runtime_factory: Any, batch_setup: Any
) -> None:
    runtime_factory(simulate=True, simulate_seconds=0.05)
    # WHEN one SubmitJob asks for an array of 3 with overrides, timeout, retries and tags
    parent_id = _array(
        batch_setup,
        "arr",
        "echo hi",
        3,
        containerOverrides={"environment": [{"name": "FROM_SUBMIT", "value": "s"}]},
        timeout={"attemptDurationSeconds": 60},
        retryStrategy={"attempts": 2},
        tags={"run": "r1"},
        parameters={"p": "v"},
    )
    parent = batch_setup.wait_done(parent_id)
    # THEN DescribeJobs takes parent and child ids and ARNs, mixed
    parent_arn = parent["jobArn"]
    described = batch_setup.batch.describe_jobs(jobs=[f"{parent_id}:0", parent_id, f"{parent_arn}:2"])["jobs"]
    by_id = {job["jobId"]: job for job in described}
    assert set(by_id) == {parent_id, f"{parent_id}:0", f"{parent_id}:2"}
    for index in (0, 2):
        child = by_id[f"{parent_id}:{index}"]
        assert child["jobArn"] == f"{parent_arn}:{index}"
        assert child["arrayProperties"] == {"index": index}
        assert child["status"] == "SUCCEEDED" and len(child["attempts"]) == 1
        for key in ("jobName", "jobQueue", "jobDefinition", "timeout", "retryStrategy", "parameters", "tags"):
            assert child[key] == parent[key], key
        assert (
            child["container"]["command"] == parent["container"]["command"] == ["/bin/bash", "-c", "echo hi"]
        )
        assert child["container"]["environment"] == parent["container"]["environment"]
        assert child["createdAt"] >= parent["createdAt"]
    assert parent["tags"] == {"run": "r1"}
    # AND the parent reports its size and its children's statuses, and never ran anything itself
    assert parent["status"] == "SUCCEEDED" and parent["attempts"] == []
    assert parent["arrayProperties"]["size"] == 3
    assert parent["arrayProperties"]["statusSummary"] == _summary(SUCCEEDED=3)
    assert parent["arrayProperties"]["statusSummaryLastUpdatedAt"] >= parent["createdAt"]
    assert "logStreamName" not in parent["container"]


@pytest.mark.parametrize("size", [0, 1, 10_001])
def test_array_size_outside_2_to_10000_is_rejected(runtime_factory: Any, batch_setup: Any, size: int) -> None:
    runtime_factory(simulate=True)
    with pytest.raises(ClientError) as error:
        _array(batch_setup, f"bad-size-{size}", "true", size)
    assert error.value.response["Error"]["Code"] == "ClientException"
    assert "between 2 and 10,000" in error.value.response["Error"]["Message"]
    listed = batch_setup.batch.list_jobs(
        jobQueue=batch_setup.queue_name, filters=[{"name": "JOB_NAME", "values": [f"bad-size-{size}"]}]
    )
    assert listed["jobSummaryList"] == []


def test_one_submit_job_token_per_array_whatever_its_size(
    runtime_factory: Any, batch_setup: Any, monkeypatch: Any
) -> None:
    # GIVEN a SubmitJob quota of 1 call per second, and a count of the quota checks
    runtime = runtime_factory(submit_tps=1, simulate=True, simulate_seconds=60, event_drop_rate=1.0)
    batch_setup.events.remove_targets(Rule=batch_setup.rule, Ids=["sqs"])
    checks: list[float] = []
    check = runtime.gate.check
    monkeypatch.setattr(runtime.gate, "check", lambda: (checks.append(time.monotonic()), check())[1])
    # WHEN an array of 2 is submitted, then another at once
    first = _array(batch_setup, "small", "true", 2)
    second = ok_or_throttled(lambda: _array(batch_setup, "again", "true", 2))
    # THEN the array took the one token: the second call is throttled (it came well within the second)
    assert checks[1] - checks[0] < 0.5
    assert second == "TooManyRequestsException" and runtime.gate.submit_throttled == 1
    # AND the largest array is one SubmitJob, one quota check, with all its children there at once
    big = wait_for_token(lambda: _array(batch_setup, "big", "true", 10_000))
    assert len(checks) >= 3 and runtime.gate.submit_throttled == len(checks) - 2
    last = batch_setup.batch.describe_jobs(jobs=[f"{big}:9999", f"{first}:1"])["jobs"]
    assert sorted(j["arrayProperties"]["index"] for j in last) == [1, 9999]
    batch_setup.batch.terminate_job(jobId=big, reason="done")
    assert batch_setup.wait_done(big, timeout=30)["arrayProperties"]["statusSummary"] == _summary(
        FAILED=10_000
    )


def test_parent_and_children_emit_the_events_of_their_own_status_changes(
    runtime_factory: Any, batch_setup: Any
) -> None:
    tap = Tap()
    runtime_factory(simulate=True, simulate_seconds=0.05, on_event=tap)
    parent_id = _array(batch_setup, "evented", "true", 3)
    children = [f"{parent_id}:{i}" for i in range(3)]
    batch_setup.wait_event(parent_id, "SUCCEEDED")
    # THEN the parent went PENDING once a child was RUNNABLE, and SUCCEEDED after its last child
    assert tap.statuses(parent_id) == ["PENDING", "SUCCEEDED"]
    assert tap.position(parent_id, "PENDING") > min(tap.position(c, "RUNNABLE") for c in children)
    assert tap.position(parent_id, "SUCCEEDED") > max(tap.position(c, "SUCCEEDED") for c in children)
    pending = next(d for d in tap.details if d["jobId"] == parent_id)
    assert pending["arrayProperties"]["size"] == 3
    assert pending["arrayProperties"]["statusSummary"]["RUNNABLE"] >= 1
    # AND every child has a plain job's event sequence with its index in the detail
    for index, child in enumerate(children):
        assert tap.statuses(child) == CHILD_PATH
        assert {d["arrayProperties"]["index"] for d in tap.details if d["jobId"] == child} == {index}
    # AND the same events reached the queue through EventBridge, children's and parent's
    for child in children:
        batch_setup.wait_event(child, "SUCCEEDED")
        assert batch_setup.statuses(child) == CHILD_PATH
    assert batch_setup.statuses(parent_id) == ["PENDING", "SUCCEEDED"]
    last = next(
        e
        for e in batch_setup.received
        if e["detail"]["jobId"] == parent_id and e["detail"]["status"] == "SUCCEEDED"
    )
    assert last["resources"] == [last["detail"]["jobArn"]]
    assert last["detail"]["arrayProperties"]["statusSummary"] == _summary(SUCCEEDED=3)


def test_a_failing_child_fails_the_parent_and_the_others_succeed(
    runtime_factory: Any, batch_setup: Any
) -> None:
    runtime_factory()
    parent_id = _array(batch_setup, "one-bad", 'test "$AWS_BATCH_JOB_ARRAY_INDEX" != 1', 3)
    parent = batch_setup.wait_done(parent_id)
    children = batch_setup.batch.describe_jobs(jobs=[f"{parent_id}:{i}" for i in range(3)])["jobs"]
    outcome = {j["arrayProperties"]["index"]: (j["status"], j["container"]["exitCode"]) for j in children}
    assert outcome == {0: ("SUCCEEDED", 0), 1: ("FAILED", 1), 2: ("SUCCEEDED", 0)}
    assert parent["status"] == "FAILED"
    assert parent["arrayProperties"]["statusSummary"] == _summary(SUCCEEDED=2, FAILED=1)


def test_children_get_their_index_and_id_in_the_environment_but_describe_lists_only_the_submitted_one(
    runtime_factory: Any, batch_setup: Any, tmp_path: Any
) -> None:
    runtime_factory()
    out = tmp_path / "out"
    out.mkdir()
    command = f'echo "$AWS_BATCH_JOB_ID $AWS_BATCH_JOB_ARRAY_SIZE" > {out}/$AWS_BATCH_JOB_ARRAY_INDEX; echo idx=$AWS_BATCH_JOB_ARRAY_INDEX'
    parent_id = _array(batch_setup, "indexed", command, 3)
    assert batch_setup.wait_done(parent_id)["status"] == "SUCCEEDED"
    assert sorted(os.listdir(out)) == ["0", "1", "2"]
    for index in range(3):
        assert (out / str(index)).read_text().split() == [f"{parent_id}:{index}", "3"]
    children = batch_setup.batch.describe_jobs(jobs=[f"{parent_id}:{i}" for i in range(3)])["jobs"]
    streams = {j["arrayProperties"]["index"]: j["container"]["logStreamName"] for j in children}
    assert len(set(streams.values())) == 3  # one log stream per child
    for index, stream in streams.items():
        events = batch_setup.logs.get_log_events(logGroupName="/aws/batch/job", logStreamName=stream)[
            "events"
        ]
        assert [e["message"] for e in events] == [f"idx={index}"]
    for job in children:
        assert job["container"]["environment"] == [{"name": "FROM_DEFINITION", "value": "jd"}]


def test_a_child_is_retried_on_its_own_per_the_retry_strategy(runtime_factory: Any, batch_setup: Any) -> None:
    tap = Tap()
    runtime_factory(on_event=tap)
    # child 0 fails its first attempt; child 1 succeeds at once
    command = 'test "$AWS_BATCH_JOB_ARRAY_INDEX$AWS_BATCH_JOB_ATTEMPT" != 01'
    parent_id = _array(batch_setup, "flaky-arr", command, 2, retryStrategy={"attempts": 2})
    parent = batch_setup.wait_done(parent_id)
    first, second = (batch_setup.job(f"{parent_id}:{i}") for i in range(2))
    assert [a["container"]["exitCode"] for a in first["attempts"]] == [1, 0]
    assert [a["container"]["exitCode"] for a in second["attempts"]] == [0]
    assert first["status"] == second["status"] == parent["status"] == "SUCCEEDED"
    assert parent["attempts"] == []
    assert tap.statuses(f"{parent_id}:0") == ["RUNNABLE", "STARTING", "RUNNING", *CHILD_PATH]
    assert tap.statuses(f"{parent_id}:1") == CHILD_PATH
    assert tap.statuses(parent_id) == ["PENDING", "SUCCEEDED"]


def test_the_attempt_timeout_applies_to_each_child(runtime_factory: Any, batch_setup: Any) -> None:
    runtime = runtime_factory(kill_grace_seconds=0.3)
    command = 'if [ "$AWS_BATCH_JOB_ARRAY_INDEX" = 0 ]; then sleep 30; else sleep 1; fi'
    parent_id = _array(batch_setup, "slow-arr", command, 2, timeout={"attemptDurationSeconds": 2})
    parent = batch_setup.wait_done(parent_id)
    slow, quick = (batch_setup.job(f"{parent_id}:{i}") for i in range(2))
    # each child has its own 2 s: child 1 ran 1 s and succeeded, child 0 was killed
    assert (slow["status"], slow["statusReason"]) == ("FAILED", "Job attempt duration exceeded timeout")
    assert quick["status"] == "SUCCEEDED"
    assert parent["status"] == "FAILED"
    assert parent.get("statusReason") != "Job attempt duration exceeded timeout"  # the parent has no timeout
    assert runtime.running_pids() == []


def test_terminate_parent_ends_every_child_and_fails_the_parent(
    runtime_factory: Any, batch_setup: Any, wait: Any
) -> None:
    tap = Tap()
    runtime = runtime_factory(on_event=tap, kill_grace_seconds=0.5)
    # GIVEN 4 children on 2 vCPUs: two running, two RUNNABLE
    parent_id = _array(batch_setup, "long-arr", "sleep 60 & sleep 60; wait", 4)
    children = [f"{parent_id}:{i}" for i in range(4)]
    wait(
        lambda: (
            [batch_setup.job(c)["status"] for c in children] == ["RUNNING", "RUNNING", "RUNNABLE", "RUNNABLE"]
        )
    )
    pids = runtime.running_pids()
    assert len(pids) == 2
    # WHEN the parent is terminated
    batch_setup.batch.terminate_job(jobId=parent_id, reason="stop the array")
    parent = batch_setup.wait_done(parent_id)
    # THEN every child is FAILED with the reason, no process is left, and the parent is FAILED
    for child in children:
        job = batch_setup.job(child)
        assert (job["status"], job["statusReason"]) == ("FAILED", "stop the array")
    assert (parent["status"], parent["statusReason"]) == ("FAILED", "stop the array")
    assert parent["arrayProperties"]["statusSummary"] == _summary(FAILED=4)
    assert tap.statuses(children[3]) == ["RUNNABLE", "FAILED"]
    assert tap.statuses(parent_id) == ["PENDING", "FAILED"]
    assert runtime.running_pids() == []
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_terminate_one_child_ends_only_that_child(runtime_factory: Any, batch_setup: Any, wait: Any) -> None:
    runtime_factory(kill_grace_seconds=0.5)
    parent_id = _array(batch_setup, "pair", "sleep 60", 2)
    first, second = f"{parent_id}:0", f"{parent_id}:1"
    wait(lambda: batch_setup.job(first)["status"] == batch_setup.job(second)["status"] == "RUNNING")
    batch_setup.batch.terminate_job(jobId=first, reason="only this one")
    assert batch_setup.wait_done(first)["statusReason"] == "only this one"
    parent = batch_setup.job(parent_id)
    assert batch_setup.job(second)["status"] == "RUNNING"
    assert parent["status"] == "PENDING"
    assert parent["arrayProperties"]["statusSummary"] == _summary(RUNNING=1, FAILED=1)
    batch_setup.batch.terminate_job(jobId=second, reason="and that one")
    parent = batch_setup.wait_done(parent_id)
    assert parent["status"] == "FAILED" and "statusReason" not in parent


def test_cancel_parent_cancels_queued_children_and_leaves_running_ones(
    runtime_factory: Any, batch_setup: Any, wait: Any
) -> None:
    runtime_factory(kill_grace_seconds=0.5)
    parent_id = _array(batch_setup, "cancelled-arr", "sleep 60", 3)
    children = [f"{parent_id}:{i}" for i in range(3)]
    wait(lambda: [batch_setup.job(c)["status"] for c in children] == ["RUNNING", "RUNNING", "RUNNABLE"])
    result = batch_setup.batch.cancel_jobs(jobs=[parent_id], reason="cancel it")
    assert result["errors"] == []
    assert (batch_setup.wait_done(children[2])["statusReason"]) == "cancel it"
    assert [batch_setup.job(c)["status"] for c in children[:2]] == ["RUNNING", "RUNNING"]
    assert batch_setup.job(parent_id)["status"] == "PENDING"  # until every child is final
    batch_setup.batch.terminate_jobs(jobs=children[:2], reason="now")
    assert (lambda p: (p["status"], p["statusReason"]))(batch_setup.wait_done(parent_id)) == (
        "FAILED",
        "cancel it",
    )


def test_list_jobs_lists_children_by_array_job_id_and_parents_by_queue(
    runtime_factory: Any, batch_setup: Any
) -> None:
    runtime_factory(job_behaviour=[{"pattern": "listed:1", "fail": 3}], simulate=True, simulate_seconds=0.05)
    parent_id = _array(batch_setup, "listed", "true", 3)
    plain = batch_setup.submit("plain", "true")
    batch_setup.wait_done(parent_id)
    batch_setup.wait_done(plain)
    batch = batch_setup.batch
    children = batch.list_jobs(arrayJobId=parent_id)["jobSummaryList"]
    assert sorted((j["jobId"], j["arrayProperties"]["index"]) for j in children) == [
        (f"{parent_id}:{i}", i) for i in range(3)
    ]
    failed = batch.list_jobs(arrayJobId=parent_id, jobStatus="FAILED")["jobSummaryList"]
    assert [(j["jobId"], j["container"]["exitCode"]) for j in failed] == [(f"{parent_id}:1", 3)]
    on_queue = batch.list_jobs(jobQueue=batch_setup.queue_name, jobStatus="FAILED")["jobSummaryList"]
    assert [j["jobId"] for j in on_queue] == [parent_id]
    assert on_queue[0]["arrayProperties"]["size"] == 3
    everything = {
        j["jobId"]
        for status in ALL_STATUSES
        for j in batch.list_jobs(jobQueue=batch_setup.queue_name, jobStatus=status)["jobSummaryList"]
    }
    assert {parent_id, plain} <= everything and not any(":" in job_id for job_id in everything)
    by_name = batch.list_jobs(
        jobQueue=batch_setup.queue_name, filters=[{"name": "JOB_NAME", "values": ["listed"]}]
    )["jobSummaryList"]
    assert [j["jobId"] for j in by_name] == [parent_id]


def test_simulated_children_reach_the_success_callback_with_their_index_and_container(
    runtime_factory: Any, batch_setup: Any
) -> None:
    seen: list[dict[str, Any]] = []
    runtime_factory(simulate=True, simulate_seconds=0.05, on_simulated_success=seen.append)
    overrides = {"environment": [{"name": "RULE", "value": "r"}]}
    parent_id = _array(batch_setup, "sim-arr", "do it", 4, containerOverrides=overrides)
    assert batch_setup.wait_done(parent_id)["status"] == "SUCCEEDED"
    assert sorted(d["arrayProperties"]["index"] for d in seen) == [0, 1, 2, 3]
    for detail in seen:
        assert detail["jobId"] == f"{parent_id}:{detail['arrayProperties']['index']}"
        assert detail["container"]["command"] == ["/bin/bash", "-c", "do it"]
        assert {"name": "RULE", "value": "r"} in detail["container"]["environment"]


def test_event_faults_apply_to_each_child_on_its_own(
    runtime_factory: Any, batch_setup: Any, wait: Any
) -> None:
    from localcloud.batch import expected_delivery

    runtime = runtime_factory(
        seed=5, simulate=True, simulate_seconds=0.05, event_duplicate_rate=0.3, event_drop_rate=0.3
    )
    parent_id = _array(batch_setup, "chaotic", "true", 8)
    batch_setup.wait_done(parent_id)
    path = [(status, 1) for status in CHILD_PATH]
    expected = {i: expected_delivery(runtime.config, f"chaotic:{i}", path) for i in range(8)}
    parent_expected = expected_delivery(runtime.config, "chaotic", [("PENDING", 1), ("SUCCEEDED", 0)])
    total = sum(map(len, expected.values())) + len(parent_expected)
    wait(lambda: len(batch_setup.drain_events()) >= total)
    received = defaultdict(list)
    for event in batch_setup.received:
        received[event["detail"]["jobId"]].append(event["detail"]["status"])
    assert {i: received[f"{parent_id}:{i}"] for i in range(8)} == expected
    assert received[parent_id] == parent_expected
    assert len({tuple(v) for v in expected.values()}) > 1  # children drew their faults independently


def test_an_array_waits_for_its_dependency_and_its_dependents_wait_for_it(
    runtime_factory: Any, batch_setup: Any
) -> None:
    tap = Tap()
    runtime_factory(on_event=tap)
    first = batch_setup.submit("setup", "sleep 0.5")
    parent_id = _array(batch_setup, "scatter", "true", 2, dependsOn=[{"jobId": first}])
    gather = batch_setup.submit("gather", "true", dependsOn=[{"jobId": parent_id}])
    assert batch_setup.wait_done(gather)["status"] == "SUCCEEDED"
    parent = batch_setup.job(parent_id)
    children = [batch_setup.job(f"{parent_id}:{i}") for i in range(2)]
    assert all(batch_setup.job(first)["stoppedAt"] <= child["startedAt"] for child in children)
    assert all(child["dependsOn"] == [{"jobId": first}] for child in children)
    assert parent["stoppedAt"] <= batch_setup.job(gather)["startedAt"]
    assert tap.statuses(parent_id) == ["PENDING", "SUCCEEDED"]  # PENDING while it waited for "setup"
    assert tap.position(parent_id, "PENDING") < tap.position(f"{parent_id}:0", "RUNNABLE")
    with pytest.raises(ClientError, match="N_TO_N"):
        _array(batch_setup, "n-to-n", "true", 2, dependsOn=[{"jobId": parent_id, "type": "N_TO_N"}])
