"""The coordinator state machine's definition: valid, fully substituted, real error names, and every
failure path ends in the clean-up (RecordFailure terminates the run's jobs)."""

import json
import re
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from localcloud.sam_template import REPO_ROOT, load_template
from sls_contract.run_request import EVENT_SOURCE, RUN_FAILED, RUN_SUCCEEDED

ASL = REPO_ROOT / "statemachine" / "coordinator.asl.json"
CLEANUP = "RecordFailure"

# Step Functions' own error names (AWS Step Functions developer guide, "Error names").
STATES_ERRORS = {
    "States.ALL", "States.DataLimitExceeded", "States.ExceedToleratedFailureThreshold", "States.HeartbeatTimeout",
    "States.Http.Socket", "States.IntrinsicFailure", "States.ItemReaderFailed", "States.NoChoiceMatched",
    "States.ParameterPathFailure", "States.Permissions", "States.ResultPathMatchFailure",
    "States.ResultWriterFailed", "States.Runtime", "States.TaskFailed", "States.Timeout",
}  # fmt: skip
# Documented by AWS for service integrations but not modelled as botocore error shapes.
DOCUMENTED_EXTRA = {"Lambda.AWSLambdaException", "Lambda.SdkClientException", "Batch.AWSBatchException"}


def _service_errors(prefix: str, service: str) -> set[str]:
    model = boto3.session.Session(region_name="us-east-1").client(service).meta.service_model
    return {
        f"{prefix}.{name}" for name in model.shape_names if model.shape_for(name).metadata.get("exception")
    }


@pytest.fixture(scope="module")
def machine() -> dict:
    return json.loads(ASL.read_text())


def test_statelint_finds_nothing():
    statelint = Path(sys.executable).parent / "statelint"
    result = subprocess.run([str(statelint), "--ignore=URI", str(ASL)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _substitutions() -> dict:
    return load_template(REPO_ROOT / "template.yaml")["Resources"]["CoordinatorStateMachine"]["Properties"][
        "DefinitionSubstitutions"
    ]


def test_every_placeholder_has_a_substitution_and_back():
    placeholders = set(re.findall(r"\$\{(\w+)\}", ASL.read_text()))
    assert placeholders == set(_substitutions())


def test_the_events_the_machine_puts_are_the_contract_s_names(machine):
    # GIVEN the substitutions that name the events the coordinator puts
    substitutions = _substitutions()

    # THEN they are the contract's constants, which the lifecycle function and the CLI match on
    assert (
        substitutions["EventSource"],
        substitutions["RunSucceededDetailType"],
        substitutions["RunFailedDetailType"],
    ) == (EVENT_SOURCE, RUN_SUCCEEDED, RUN_FAILED)
    # AND no state puts a detail type or source except through them
    puts = [
        entry
        for state in machine["States"].values()
        for entry in state.get("Parameters", {}).get("Entries", [])
    ]
    assert puts and {(e["Source"], e["DetailType"]) for e in puts} <= {
        ("${EventSource}", "${RunSucceededDetailType}"),
        ("${EventSource}", "${RunFailedDetailType}"),
    }


def test_every_retried_or_caught_error_name_exists(machine):
    known = (
        STATES_ERRORS
        | DOCUMENTED_EXTRA
        | _service_errors("Lambda", "lambda")
        | _service_errors("Batch", "batch")
    )
    used = {
        name
        for state in machine["States"].values()
        for rule in state.get("Retry", []) + state.get("Catch", [])
        for name in rule["ErrorEquals"]
    }
    assert used - known == set()


def _reaches(machine: dict, start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name == goal:
            return True
        if name in seen:
            continue
        seen.add(name)
        state = machine["States"][name]
        todo += [c["Next"] for c in state.get("Catch", [])] + ([state["Next"]] if "Next" in state else [])
    return False


def test_every_task_before_the_cleanup_catches_everything_into_the_cleanup(machine):
    before_cleanup = [
        name
        for name, state in machine["States"].items()
        if state["Type"] == "Task" and not _reaches(machine, CLEANUP, name) and name != CLEANUP
    ]
    # AnnounceSuccess runs once the run is recorded SUCCEEDED: nothing is left to clean up, so it
    # only retries; every other task falls into the clean-up on any error.
    assert before_cleanup == ["RegisterRun", "RunCoordinator", "RecordSuccess", "AnnounceSuccess"]
    assert machine["States"]["AnnounceSuccess"]["Retry"][0]["ErrorEquals"] == ["States.ALL"]
    for name in before_cleanup[:-1]:
        catches = machine["States"][name]["Catch"]
        assert [c for c in catches if "States.ALL" in c["ErrorEquals"] and c["Next"] == CLEANUP], name


def test_the_failure_branch_always_ends_in_a_fail_state(machine):
    for start in [CLEANUP, *(c["Next"] for c in machine["States"][CLEANUP]["Catch"])]:
        assert _reaches(machine, start, "RunFailed")
    assert machine["States"]["RunFailed"]["Type"] == "Fail"


def test_the_coordinator_job_is_bounded_in_time(machine):
    assert machine["States"]["RunCoordinator"]["TimeoutSecondsPath"]
