"""Snakemake finds the plugin and turns every setting into a flag (a PEP 604 union would break it)."""

import dataclasses
import subprocess
import sys

from snakemake_executor_plugin_aws_basic_batch_sls import ExecutorSettings


def test_snakemake_exposes_every_setting_as_a_flag():
    help_text = subprocess.run(
        [sys.executable, "-m", "snakemake", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for field in dataclasses.fields(ExecutorSettings):
        assert f"--aws-basic-batch-sls-{field.name.replace('_', '-')}" in help_text
        assert field.metadata["help"] and "env_var" in field.metadata and "required" in field.metadata
