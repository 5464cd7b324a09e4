"""The docs match the code: every setting and every per-rule resource is documented."""

import dataclasses
from pathlib import Path

import pytest

from snakemake_executor_plugin_aws_basic_batch_sls import ExecutorSettings
from snakemake_executor_plugin_aws_basic_batch_sls.resources import RESOURCES

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
FURTHER = (ROOT / "docs" / "further.md").read_text()


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(ExecutorSettings)])
def test_every_setting_is_in_the_readme_settings_table(field):
    flag = f"--aws-basic-batch-sls-{field.replace('_', '-')}"
    env = f"SNAKEMAKE_AWS_BASIC_BATCH_SLS_{field.upper()}"
    assert f"| `{flag}` | `{env}` |" in README


@pytest.mark.parametrize("resource", sorted(RESOURCES))
def test_every_resource_is_documented(resource):
    assert f"`{resource}`" in README
    assert resource in FURTHER


def test_readme_starts_with_the_two_commands():
    quick_start = README.split("## Quick start (no AWS account)", 1)[1]
    commands = [line.split("#")[0].strip() for line in quick_start.split("```bash", 1)[1].splitlines()[1:3]]
    assert commands == ["make demo", "make test"]


def test_the_run_your_own_workflow_steps_are_the_ones_the_e2e_test_runs():
    from tests.e2e.test_local_cloud_cli import README_STEPS

    section = README.split("## Run your own workflow locally", 1)[1].split("\n## ", 1)[0]
    assert "make local-cloud" in section
    for command in README_STEPS:
        assert command in section


@pytest.mark.parametrize("doc", ["README.md", "docs/further.md"])
def test_runnable_examples_are_marked_where_the_e2e_test_finds_them(doc):
    from tests.support.doc_examples import marked_examples

    examples = marked_examples((ROOT / doc).read_text())  # a marker off its fence raises
    commands = "\n".join(e.text for e in examples if not e.file)
    assert "snakemake --executor aws-basic-batch-sls" in commands
    assert "aws-basic-batch-sls start request.yaml" in commands
    assert "request.yaml" in [e.file for e in examples]
    assert "sam deploy" not in commands  # needs AWS: never marked


def test_the_coordinator_example_of_further_md_is_run():
    from tests.support.doc_examples import marked_examples

    commands = [e.text for e in marked_examples(FURTHER) if not e.file]
    assert any("--aws-basic-batch-sls-coordinator" in c and "--jobs" in c for c in commands)
