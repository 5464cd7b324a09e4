"""The job spec: what is accepted, what is rejected, and that every rejection says why."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sls_contract.errors import InvalidJobSpec
from sls_contract.fargate import check_fargate_pair, nearest_pairs
from sls_contract.spec import SPEC_VERSION, JobSpec, parse_job_spec, spec_keys
from sls_contract.tags import AUTOMATIC_TAGS, job_tags, parse_tag_string
from tests.support.specs import PARAMETER_ARN, SECRET_ARN, full_spec, minimal_spec


def rejection(spec: dict[str, Any]) -> str:
    with pytest.raises(InvalidJobSpec) as caught:
        parse_job_spec(json.dumps(spec))
    return str(caught.value)


def test_full_spec_round_trips_through_the_message() -> None:
    spec = parse_job_spec(json.dumps(full_spec()))

    again = parse_job_spec(spec.to_message())

    assert again == spec
    assert json.loads(spec.to_message())["version"] == SPEC_VERSION
    # the action is case-insensitive in AWS: normalised to upper case
    assert [rule.action for rule in spec.retry_strategy.evaluateOnExit] == ["RETRY", "EXIT"]


def test_minimal_spec_gets_the_documented_defaults() -> None:
    spec = parse_job_spec(json.dumps(minimal_spec()).encode())

    assert (spec.version, spec.vcpu, spec.memory_mib, spec.gpu) == (1, 1, 1024, 0)
    assert (spec.timeout_seconds, spec.retry_strategy, spec.scheduling_priority) == (None, None, None)
    assert (spec.secrets, spec.environment, spec.tags, spec.container_image) == ([], {}, {}, None)


def test_a_dict_body_is_parsed_like_json() -> None:
    assert parse_job_spec(minimal_spec()) == parse_job_spec(json.dumps(minimal_spec()))


def test_unknown_version_is_rejected_with_what_to_do() -> None:
    reason = rejection(minimal_spec(version=3))

    assert reason == (
        "invalid job spec: version: Value error, job spec version 3 is not supported by this stack "
        "(it understands [1, 2]); deploy the stack version that matches the plugin"
    )


def test_an_array_spec_needs_version_2() -> None:
    assert "array_size needs job spec version 2" in rejection(minimal_spec(array_size=5))
    assert parse_job_spec(minimal_spec(version=2, array_size=5)).array_size == 5


@pytest.mark.parametrize("size", [0, 1, 10_001])
def test_array_size_outside_what_batch_takes_is_rejected(size: int) -> None:
    assert "array_size" in rejection(minimal_spec(version=2, array_size=size))


def test_invalid_json_is_rejected() -> None:
    with pytest.raises(InvalidJobSpec, match=r"^invalid job spec: \(root\): Invalid JSON"):
        parse_job_spec("{not json")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"timeout_seconds": 59}, "timeout_seconds"),
        ({"scheduling_priority": -1}, "scheduling_priority"),
        ({"scheduling_priority": 10000}, "scheduling_priority"),
        ({"retry_strategy": {"attempts": 0}}, "retry_strategy.attempts"),
        ({"retry_strategy": {"attempts": 11}}, "retry_strategy.attempts"),
        ({"retry_strategy": {"evaluateOnExit": [{"action": "EXIT"}] * 6}}, "retry_strategy.evaluateOnExit"),
        (
            {"retry_strategy": {"evaluateOnExit": [{"action": "EXIT", "onReason": "*timeout*"}]}},
            "retry_strategy.evaluateOnExit.0.onReason",
        ),
        (
            {"retry_strategy": {"evaluateOnExit": [{"action": "EXIT", "onStatusReason": "Task*failed"}]}},
            "retry_strategy.evaluateOnExit.0.onStatusReason",
        ),
        (
            {"retry_strategy": {"evaluateOnExit": [{"action": "EXIT", "onExitCode": "1a"}]}},
            "retry_strategy.evaluateOnExit.0.onExitCode",
        ),
        (
            {"retry_strategy": {"evaluateOnExit": [{"action": "EXIT", "onExitCode": "x" * 513}]}},
            "retry_strategy.evaluateOnExit.0.onExitCode",
        ),
        (
            {"retry_strategy": {"evaluateOnExit": [{"action": "RESTART"}]}},
            "retry_strategy.evaluateOnExit.0.action",
        ),
        ({"secrets": [{"name": "DB", "valueFrom": "db-password"}]}, "secrets.0.valueFrom"),
        (
            {"secrets": [{"name": "DB", "valueFrom": "arn:aws:s3:::bucket/secret"}]},
            "secrets.0.valueFrom",
        ),
        ({"secrets": [{"name": "1DB", "valueFrom": SECRET_ARN}]}, "secrets.0.name"),
        ({"tags": {f"k{i}": "v" for i in range(51)}}, "tags"),
        ({"tags": {"k" * 129: "v"}}, f"tags.{'k' * 129}.[key]"),
        ({"tags": {"k": "v" * 257}}, "tags.k"),
        ({"job_name": "-starts-with-dash"}, "job_name"),
        ({"job_name": "has space"}, "job_name"),
        ({"job_name": "has.dot"}, "job_name"),
        ({"job_name": "a" * 129}, "job_name"),
        ({"environment": {"BAD-NAME": "x"}}, "environment.BAD-NAME.[key]"),
        ({"vcpu": 0}, "vcpu"),
        ({"gpu": -1}, "gpu"),
        ({"memory_mib": 0}, "memory_mib"),
        ({"command": []}, "command"),
        ({"job_id": "short"}, "job_id"),
        ({"run_id": ""}, "run_id"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_every_invalid_field_is_rejected_naming_it(overrides: dict[str, Any], field: str) -> None:
    reason = rejection(minimal_spec(**overrides))

    assert reason.startswith(f"invalid job spec: {field}: "), reason


def test_every_missing_required_field_is_named() -> None:
    reason = rejection({"version": 1})

    for field in ("run_id", "job_id", "workflow", "rule", "snakemake_jobid", "job_name", "command"):
        assert f"{field}: Field required" in reason


@pytest.mark.parametrize(
    "overrides",
    [
        {"timeout_seconds": 60},
        {"scheduling_priority": 0},
        {"scheduling_priority": 9999},
        {"retry_strategy": {"attempts": 1}},
        {"retry_strategy": {"attempts": 10, "evaluateOnExit": [{"action": "exit"}] * 5}},
        {"retry_strategy": {"evaluateOnExit": [{"action": "Retry", "onExitCode": "13*"}]}},
        {"retry_strategy": {"evaluateOnExit": [{"action": "EXIT", "onReason": "CannotPull: image*"}]}},
        {"secrets": [{"name": "TOKEN", "valueFrom": PARAMETER_ARN}]},
        {"tags": {f"k{i}": "v" for i in range(50)}},
        {"tags": {"k" * 128: "v" * 256}},
        {"job_name": "a" * 128},
        {"job_name": "0_rule-name"},
    ],
)
def test_values_at_the_limits_are_accepted(overrides: dict[str, Any]) -> None:
    parse_job_spec(json.dumps(minimal_spec(**overrides)))


def test_lower_case_action_is_normalised() -> None:
    spec = parse_job_spec(
        json.dumps(minimal_spec(retry_strategy={"evaluateOnExit": [{"action": "exit", "onExitCode": "1"}]}))
    )

    assert spec.retry_strategy.model_dump() == {
        "attempts": 1,
        "evaluateOnExit": [{"action": "EXIT", "onExitCode": "1", "onReason": None, "onStatusReason": None}],
    }


def test_duplicate_secret_names_are_rejected() -> None:
    secrets = [{"name": "DB", "valueFrom": SECRET_ARN}, {"name": "DB", "valueFrom": PARAMETER_ARN}]

    assert rejection(minimal_spec(secrets=secrets)) == (
        "invalid job spec: (root): Value error, secrets define ['DB'] more than once"
    )


def test_a_secret_also_in_the_plain_environment_is_rejected() -> None:
    spec = minimal_spec(secrets=[{"name": "DB", "valueFrom": SECRET_ARN}], environment={"DB": "plain"})

    assert rejection(spec) == (
        "invalid job spec: (root): Value error, ['DB'] are set both as secrets and as plain environment"
    )


def test_the_spec_is_immutable() -> None:
    spec = JobSpec.model_validate(minimal_spec())

    with pytest.raises(ValueError, match="frozen"):
        spec.rule = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("body", "keys"),
    [
        (json.dumps(minimal_spec(version=9)), ("run-1", "job-00000001")),
        (json.dumps({"run_id": "r", "job_id": "job-0001", "rule": 3}), ("r", "job-0001")),
        # keys that are not valid record keys: recorded under the message id instead
        (json.dumps({"run_id": "r", "job_id": "j"}), None),
        (json.dumps({"run_id": "r", "job_id": "#run"}), None),
        ("[" * 100_000, None),
        ("{not json", None),
        ("[1, 2]", None),
        (json.dumps({"run_id": "r"}), None),
        (json.dumps({"run_id": "", "job_id": "j"}), None),
        (json.dumps({"run_id": "r", "job_id": 7}), None),
        (json.dumps({"run_id": "r" * 257, "job_id": "j"}), None),
    ],
)
def test_spec_keys_of_a_rejected_body(body: str, keys: tuple[str, str] | None) -> None:
    assert spec_keys(body) == keys


# --- Fargate's vCPU / memory pairs ---


@pytest.mark.parametrize(
    ("vcpu", "memory"),
    [
        (0.25, 512),
        (0.25, 2048),
        (0.5, 4096),
        (1, 2048),
        (1.0, 8192),
        (2, 16384),
        (4, 30720),
        (8, 61440),
        (16, 32768),
        (16, 122880),
    ],
)
def test_valid_fargate_pairs_are_accepted(vcpu: float, memory: int) -> None:
    check_fargate_pair(vcpu, memory)


def test_invalid_fargate_pair_names_the_nearest_valid_pairs() -> None:
    with pytest.raises(InvalidJobSpec) as caught:
        check_fargate_pair(1, 1024)

    assert str(caught.value) == (
        "vcpu=1 with mem_mb=1024 is not a valid Fargate combination; nearest valid: "
        "vcpu=0.5 mem_mb=1024, vcpu=0.25 mem_mb=1024, vcpu=1 mem_mb=2048"
    )


@pytest.mark.parametrize(("vcpu", "memory"), [(3, 8192), (0.25, 4096), (8, 18432), (16, 16384), (32, 65536)])
def test_invalid_fargate_pairs_are_rejected(vcpu: float, memory: int) -> None:
    with pytest.raises(InvalidJobSpec, match="is not a valid Fargate combination; nearest valid: "):
        check_fargate_pair(vcpu, memory)
    assert len(nearest_pairs(vcpu, memory)) == 3


# --- tags ---


def test_tag_string_parsing() -> None:
    assert parse_tag_string(" team = genomics , cost=a=b,, ") == {"team": "genomics", "cost": "a=b"}
    assert parse_tag_string(None) == {}
    assert parse_tag_string("") == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("novalue", "tag 'novalue' is not key=value"),
        ("=v", "tag '=v' is not key=value"),
        ("aws:owner=me", "tag key 'aws:owner' uses the prefix 'aws:', which AWS reserves"),
        ("AWS:owner=me", "tag key 'AWS:owner' uses the prefix 'aws:', which AWS reserves"),
        ("snakemake:rule=x", "tag key 'snakemake:rule' is set automatically; choose another key"),
        (
            "aws-basic-batch-sls:stack=x",
            "tag key 'aws-basic-batch-sls:stack' is set automatically; choose another key",
        ),
        ("k" * 129 + "=v", f"tag key {'k' * 40!r}... is longer than 128"),
        ("k=" + "v" * 257, "tag 'k' has a value longer than 256"),
        (
            ",".join(f"k{i}=v" for i in range(47)),
            "47 tags given; Batch allows 50 and 4 are automatic, so at most 46",
        ),
    ],
)
def test_tag_string_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_tag_string(text)

    assert str(caught.value) == message


def test_tag_string_at_the_limit() -> None:
    assert len(parse_tag_string(",".join(f"k{i}=v" for i in range(46)))) == 46


def test_job_tags_add_the_automatic_tags_cut_to_the_value_limit() -> None:
    tags = job_tags({"team": "genomics"}, run_id="run-1", rule="r" * 300, workflow="wf")

    assert tags == {
        "team": "genomics",
        "snakemake:run-id": "run-1",
        "snakemake:rule": "r" * 256,
        "snakemake:workflow": "wf",
    }
    assert set(AUTOMATIC_TAGS) <= set(tags)


def test_a_group_job_spec_carries_its_uuid_job_id_group_and_rules() -> None:
    group_jobid = "3c5f6c1e-8b1d-5a4f-9a59-0e4f0d1c2b3a"  # Snakemake's group job id is a UUID
    body = json.dumps(minimal_spec(snakemake_jobid=group_jobid, group="pair", rule="first,second"))
    parsed = parse_job_spec(parse_job_spec(body).to_message())
    assert (parsed.snakemake_jobid, parsed.group, parsed.rule) == (group_jobid, "pair", "first,second")
    assert parse_job_spec(json.dumps(minimal_spec(snakemake_jobid=7))).snakemake_jobid == 7  # int stays int


def test_automatic_tag_values_are_made_valid_for_aws() -> None:
    tags = job_tags({}, run_id="run-1", rule="first,second", workflow="my workflow (copy) ü")
    assert tags["snakemake:rule"] == "first second"
    assert tags["snakemake:workflow"] == "my workflow _copy_ _"
