"""A workflow written as Snakemake's docs show, run unchanged from a directory no job image contains:
job groups, a checkpoint with a directory() output, a 30-way scatter, odd wildcards, shell quoting,
per-rule aws_batch_* resources, `runtime`, Snakemake retries and --container-image."""

from collections import Counter

import pytest

from localcloud.cloud import DATA_BUCKET
from sls_contract.status import JobStatus

pytestmark = pytest.mark.e2e

IMAGE = "registry.example/stock-snakemake:1"  # the "image" is empty on the local cloud: nothing baked in
ODD_NAMES = ["v1.2", "a+b", "with space", "naïve-Ünïcode"]


def _read(driver, run_id: str, key: str) -> str:
    body = driver.cloud.client("s3").get_object(Bucket=DATA_BUCKET, Key=f"{run_id}/{key}")["Body"]
    return body.read().decode()


@pytest.fixture(scope="module")
def features_run(driver):
    env = {
        "SESSION_ID": "session-42",  # declared with envvars: (a name an earlier filter withheld)
        "SNAKEMAKE_AWS_BATCH_JOB_QUEUE": "left-over-from-the-aws-batch-plugin",
    }
    run = driver.run("features.smk", "--container-image", IMAGE, timeout=600, env=env)
    assert run.returncode == 0, run.output[-4000:]
    return run


def _described(driver, records) -> dict[str, dict]:
    batch = driver.cloud.client("batch")
    ids = [r.batch_job_id for r in records if r.batch_job_id]
    jobs = {}
    for start in range(0, len(ids), 100):
        for job in batch.describe_jobs(jobs=ids[start : start + 100])["jobs"]:
            jobs[job["jobId"]] = job
    return jobs


def test_every_feature_produced_its_output(driver, features_run):
    run_id = features_run.run_id
    assert _read(driver, run_id, "scatter/total.txt").strip() == "30"
    for name in ODD_NAMES:
        assert _read(driver, run_id, f"odd/{name}.txt") == f"{name}\n"
    assert _read(driver, run_id, "grouped/b.txt") == "a\nb\n"
    assert _read(driver, run_id, "checkpoint/sum.txt").strip() == "10"  # 1 + 2 + 3 + 4
    assert _read(driver, run_id, "retry/done.txt").strip() == "attempt 2"
    assert _read(driver, run_id, "quoting/out.txt") == 'it\'s "quoted" $HOME `not run` & ; | done\n'
    assert _read(driver, run_id, "env/session.txt") == "session-42\n"


def test_a_setting_of_another_plugin_is_named_not_ignored(features_run):
    assert (
        "SNAKEMAKE_AWS_BATCH_JOB_QUEUE belongs to the aws-batch plugin and is ignored by aws-basic-batch-sls: "
        "use --aws-basic-batch-sls-job-queue"
    ) in features_run.output


def test_a_group_is_one_batch_job_showing_its_rules(features_run):
    [group] = [r for r in features_run.records if r.group]
    assert (group.group, group.rule, group.status) == ("pair", "group_first,group_second", "SUCCEEDED")
    assert isinstance(group.snakemake_jobid, str)  # Snakemake's group job id is a UUID
    assert group.rule_label() == "group_first,group_second (group pair)"
    assert group.job_name.startswith("snakejob-pair-")
    assert not any(r.rule in ("group_first", "group_second") for r in features_run.records)


def test_records_count_each_job_attempt(features_run):
    by_rule = Counter((r.rule, r.status) for r in features_run.records)
    assert by_rule[("scatter", JobStatus.SUCCEEDED)] == 30
    # A rule's `retries:` (Snakemake 9 applies it inside the remote job too, so the second attempt may
    # run in the same Batch job): it failed once and succeeded; at most one Batch job failed on the way.
    assert by_rule[("flaky", JobStatus.SUCCEEDED)] == 1
    assert by_rule[("flaky", JobStatus.FAILED)] <= 1
    assert by_rule[("odd_names", JobStatus.SUCCEEDED)] == len(ODD_NAMES)
    assert by_rule[("split", JobStatus.SUCCEEDED)] == by_rule[("add_parts", JobStatus.SUCCEEDED)] == 1


def test_per_rule_resources_runtime_and_container_image_reach_batch(driver, features_run):
    records = features_run.records
    jobs = _described(driver, records)
    scatter = [jobs[r.batch_job_id] for r in records if r.rule == "scatter"]
    assert all(j["jobName"].startswith("feat-scatter-") for j in scatter)
    assert {j["timeout"]["attemptDurationSeconds"] for j in scatter} == {300}  # runtime=5 (minutes)
    memory = {
        req["value"]
        for j in scatter
        for req in j["container"]["resourceRequirements"]
        if req["type"] == "MEMORY"
    }
    assert memory == {"512"}
    # Snakemake's --container-image reaches every job (through a derived job definition revision).
    assert {j["container"]["image"] for j in jobs.values()} == {IMAGE}


def test_a_failing_rule_in_a_group_fails_the_group_job_naming_the_rule(driver):
    run = driver.run("group_failing.smk")
    assert run.returncode != 0
    [record] = run.records
    assert (record.group, record.rule, record.status) == ("pipeline", "first,second", "FAILED")
    assert "group pipeline: rule second failed" in run.output
