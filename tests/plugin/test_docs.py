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
