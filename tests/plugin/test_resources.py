"""Per-rule resources -> spec fields: every documented resource, every invalid-input error."""

import json

import pytest

from sls_contract.spec import Secret
from snakemake_executor_plugin_aws_basic_batch_sls.resources import (
    RESOURCES,
    Defaults,
    ResourceError,
    build_spec,
    distinct,
    spec_fields,
    static_problems,
)

QUEUE = "arn:aws:batch:us-east-1:123456789012:job-queue/default"
DEFINITION = "arn:aws:batch:us-east-1:123456789012:job-definition/default:1"
GLOBAL_SECRET = Secret(
    name="DB_PASSWORD", valueFrom="arn:aws:secretsmanager:us-east-1:123456789012:secret:db"
)
DEFAULTS = Defaults(job_queue=QUEUE, job_definition=DEFINITION, task_timeout=None, secrets=(GLOBAL_SECRET,))
UNIQUE = "0123456789abcdef0123456789abcdef"


def make_spec(resources, threads=1, rule="align"):
    fields = spec_fields(rule, threads, resources, DEFAULTS, unique=UNIQUE)
    fields.update(
        run_id="run-1",
        job_id=UNIQUE,
        workflow="wf",
        rule=rule,
        snakemake_jobid=3,
        command=["/bin/bash", "-c", "true"],
    )
    return build_spec(rule, fields, resources)


def test_defaults_come_from_snakemake_threads_mem_and_gpu():
    spec = make_spec({"mem_mb": 3000, "gpu": 1}, threads=4)
    assert (spec.vcpu, spec.memory_mib, spec.gpu) == (4, 3000, 1)
    assert spec.job_queue == QUEUE and spec.job_definition == DEFINITION
    assert spec.job_name == f"snakejob-align-{UNIQUE}"
    assert [s.name for s in spec.secrets] == ["DB_PASSWORD"]


def test_aws_batch_resources_override_snakemake_ones():
    spec = make_spec(
        {
            "mem_mb": 3000,
            "aws_batch_vcpu": 8,
            "aws_batch_mem_mb": 16384,
            "aws_batch_gpu": 2,
            "aws_batch_job_queue": "gpu-queue",
            "aws_batch_job_definition": "gpu-def",
            "aws_batch_task_timeout": 7200,
            "aws_batch_job_name_prefix": "proj",
            "aws_batch_job_name_suffix": "exp2",
            "aws_batch_job_uuid": "run-42",
            "aws_batch_scheduling_priority": 100,
            "aws_batch_share_identifier": "teamA",
            "aws_batch_retry_strategy": json.dumps(
                {"attempts": 3, "evaluateOnExit": [{"action": "retry", "onExitCode": "137"}]}
            ),
            "aws_batch_consumable_resources": json.dumps([{"consumableResource": "lic", "quantity": 2}]),
            "aws_batch_container_image": "repo/image:tag",
        },
        threads=2,
    )
    assert (spec.vcpu, spec.memory_mib, spec.gpu) == (8, 16384, 2)
    assert (spec.job_queue, spec.job_definition, spec.timeout_seconds) == ("gpu-queue", "gpu-def", 7200)
    assert spec.job_name == "proj-align-exp2-run-42"
    assert (spec.scheduling_priority, spec.share_identifier) == (100, "teamA")
    assert spec.retry_strategy.attempts == 3
    assert spec.retry_strategy.evaluateOnExit[0].action == "RETRY"
    assert spec.consumable_resources[0].quantity == 2
    assert spec.container_image == "repo/image:tag"


def test_aws_batch_timeout_alias_of_the_aws_batch_plugin():
    assert make_spec({"aws_batch_timeout": 600}).timeout_seconds == 600


def test_per_rule_secrets_merge_with_global_and_win_by_name():
    rule_secrets = [
        {"name": "DB_PASSWORD", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/db"},
        {"name": "API_KEY", "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:api"},
    ]
    spec = make_spec({"aws_batch_secrets": json.dumps(rule_secrets)})
    assert {s.name: s.valueFrom for s in spec.secrets} == {
        "DB_PASSWORD": "arn:aws:ssm:us-east-1:123456789012:parameter/db",
        "API_KEY": "arn:aws:secretsmanager:us-east-1:123456789012:secret:api",
    }


def test_fargate_fractional_vcpu_is_kept():
    assert make_spec({"aws_batch_vcpu": "0.25", "aws_batch_mem_mb": 512}).vcpu == 0.25


@pytest.mark.parametrize(
    ("resources", "names"),
    [
        ({"aws_batch_task_timeout": 30}, "aws_batch_task_timeout"),
        ({"aws_batch_task_timeout": "soon"}, "aws_batch_task_timeout"),
        ({"aws_batch_task_timeout": 90, "aws_batch_timeout": 120}, "aws_batch_timeout"),
        ({"aws_batch_scheduling_priority": 10000}, "aws_batch_scheduling_priority"),
        ({"aws_batch_scheduling_priority": -1}, "aws_batch_scheduling_priority"),
        ({"aws_batch_vcpu": 0}, "aws_batch_vcpu"),
        ({"aws_batch_mem_mb": 0}, "aws_batch_mem_mb"),
        ({"aws_batch_mem_mb": 1.5}, "aws_batch_mem_mb"),
        ({"aws_batch_gpu": -1}, "aws_batch_gpu"),
        ({"aws_batch_retry_strategy": "{not json"}, "aws_batch_retry_strategy"),
        ({"aws_batch_retry_strategy": json.dumps({"attempts": 11})}, "aws_batch_retry_strategy"),
        ({"aws_batch_retry_strategy": json.dumps({"attempts": 0})}, "aws_batch_retry_strategy"),
        (
            {
                "aws_batch_retry_strategy": json.dumps(
                    {"attempts": 2, "evaluateOnExit": [{"action": "RETRY"}] * 6}
                )
            },
            "aws_batch_retry_strategy",
        ),
        (
            {
                "aws_batch_retry_strategy": json.dumps(
                    {"attempts": 2, "evaluateOnExit": [{"action": "RETRY", "onReason": "*timeout*"}]}
                )
            },
            "aws_batch_retry_strategy",
        ),
        (
            {"aws_batch_retry_strategy": json.dumps({"evaluateOnExit": [{"action": "MAYBE"}]})},
            "aws_batch_retry_strategy",
        ),
        (
            {
                "aws_batch_retry_strategy": json.dumps(
                    {"evaluateOnExit": [{"action": "EXIT", "onExitCode": "1a"}]}
                )
            },
            "aws_batch_retry_strategy",
        ),
        ({"aws_batch_secrets": json.dumps([{"name": "X", "valueFrom": "plain"}])}, "aws_batch_secrets"),
        ({"aws_batch_secrets": json.dumps({"name": "X"})}, "aws_batch_secrets"),
        ({"aws_batch_secrets": "[{"}, "aws_batch_secrets"),
        ({"aws_batch_secrets": json.dumps([{"name": "1BAD", "valueFrom": "x"}])}, "aws_batch_secrets"),
        (
            {"aws_batch_consumable_resources": json.dumps([{"consumableResource": "lic", "quantity": 0}])},
            "aws_batch_consumable_resources",
        ),
        ({"aws_batch_consumable_resources": "lic:2"}, "aws_batch_consumable_resources"),
        ({"aws_batch_job_name_prefix": "my project"}, "aws_batch_job_name_prefix"),
        ({"aws_batch_job_name_suffix": "a/b"}, "aws_batch_job_name_suffix"),
        ({"aws_batch_job_uuid": "x" * 130}, "job name"),
        ({"aws_batch_job_name_prefix": "_lead"}, "must start with a letter or digit"),
        ({"aws_batch_share_identifier": ""}, "aws_batch_share_identifier"),
    ],
)
def test_invalid_resource_names_rule_and_resource(resources, names):
    with pytest.raises(ResourceError) as info:
        make_spec(resources)
    message = str(info.value)
    assert message.startswith("rule align:")
    assert names in message


def test_long_rule_names_are_cut_to_batch_job_name_limit():
    spec = make_spec({}, rule="r" * 200)
    assert len(spec.job_name) == 128
    assert spec.job_name.endswith(UNIQUE)


def test_every_documented_resource_of_both_reference_plugins_is_accepted():
    # From ../shared/reference: aws-basic-batch and aws-batch plugin docs.
    documented = {
        "aws_batch_vcpu", "aws_batch_mem_mb", "aws_batch_gpu", "aws_batch_job_queue",
        "aws_batch_job_definition", "aws_batch_task_timeout", "aws_batch_timeout",
        "aws_batch_job_name_prefix", "aws_batch_job_name_suffix", "aws_batch_job_uuid",
        "aws_batch_scheduling_priority", "aws_batch_secrets", "aws_batch_retry_strategy",
        "aws_batch_consumable_resources", "aws_batch_container_image",
    }  # fmt: skip
    assert documented <= set(RESOURCES)


def test_snakemake_runtime_minutes_sets_the_attempt_timeout():
    assert make_spec({"runtime": 90}).timeout_seconds == 5400
    # an explicit aws_batch_* timeout wins over runtime, whichever alias it uses
    assert make_spec({"runtime": 90, "aws_batch_task_timeout": 600}).timeout_seconds == 600
    assert make_spec({"runtime": 90, "aws_batch_timeout": 120}).timeout_seconds == 120
    assert make_spec({}).timeout_seconds is None


def test_runtime_below_one_minute_is_refused_with_what_to_do():
    with pytest.raises(ResourceError, match=r"rule align: resource runtime=0 .*use runtime=1 or more"):
        make_spec({"runtime": 0})


def test_a_fraction_snakemake_rounded_to_zero_says_to_quote_it():
    # Snakemake turns aws_batch_vcpu=0.25 into round(0.25) == 0 before any plugin sees it.
    with pytest.raises(ResourceError, match=r'aws_batch_vcpu="0.25"') as info:
        make_spec({"aws_batch_vcpu": 0, "aws_batch_mem_mb": 512})
    assert str(info.value).startswith("rule align: resource aws_batch_vcpu=0 must be above 0")


def test_container_image_default_comes_from_snakemakes_flag_and_a_rule_wins():
    with_image = Defaults(
        job_queue=QUEUE, job_definition=DEFINITION, task_timeout=None, secrets=(), container_image="img:1"
    )

    def spec(resources):
        fields = spec_fields("align", 1, resources, with_image, unique=UNIQUE)
        fields.update(
            run_id="r", job_id=UNIQUE, workflow="wf", rule="align", snakemake_jobid=1, command=["x"]
        )
        return build_spec("align", fields, resources)

    assert spec({}).container_image == "img:1"
    assert spec({"aws_batch_container_image": "rule-img:2"}).container_image == "rule-img:2"
    assert make_spec({}).container_image is None  # no --container-image: the job definition's image


def test_a_group_job_is_named_after_its_group():
    fields = spec_fields("group g (rules a, b)", 2, {}, DEFAULTS, unique=UNIQUE, name_part="g")
    assert fields["job_name"] == f"snakejob-g-{UNIQUE}"


def test_static_resources_of_every_rule_are_checked_once_per_rule():
    problems = static_problems(
        [
            ("fine", {"aws_batch_vcpu": 2, "mem_mb": 1000}),
            ("typo", {"aws_batch_vcpu": "four"}),
            ("short", {"aws_batch_task_timeout": 30}),
        ],
        DEFAULTS,
    )
    assert problems == [
        "rule typo: resource aws_batch_vcpu='four' is not a number",
        "rule short: resource aws_batch_task_timeout=30: timeout_seconds: Input should be greater than or equal to 60",
    ]


def test_the_same_problem_of_many_jobs_is_said_once_with_a_count():
    assert distinct(["rule a: x", "rule b: y", "rule a: x"]) == ["rule a: x (2 jobs)", "rule b: y"]


def test_a_retry_glob_error_says_in_words_what_aws_allows():
    strategy = {"attempts": 2, "evaluateOnExit": [{"action": "RETRY", "onReason": "*timeout*"}]}
    with pytest.raises(ResourceError) as info:
        make_spec({"aws_batch_retry_strategy": json.dumps(strategy)})
    assert str(info.value).endswith(
        "retry_strategy.evaluateOnExit.0.onReason: '*timeout*' is not allowed: letters, digits, '.', ':' "
        "and spaces, optionally ending with one '*' (AWS Batch matches a prefix; '*' only at the end)"
    )
    assert "^[" not in str(info.value)  # no regular expression shown
