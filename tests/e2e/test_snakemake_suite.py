"""Snakemake's own executor-plugin test suite (snakemake.common.tests), as catalog plugins run it:
its `simple` and `groups` workflows, in-process through Snakemake's API, against the local cloud.
Nothing of the workflows is in any job image: Snakemake ships the sources through the default storage."""

from collections.abc import Iterator
from typing import Optional

import pytest
from snakemake.common.tests import TestWorkflowsMinioPlayStorageBase
from snakemake_interface_executor_plugins.settings import ExecutorSettingsBase

from localcloud.batch import BatchRuntimeConfig
from localcloud.cloud import LocalCloud
from localcloud.endpoint import CREDENTIALS, REGION
from snakemake_executor_plugin_aws_basic_batch_sls import ExecutorSettings

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(batch_config=BatchRuntimeConfig(time_scale=0.2), retry_delay=1) as running:
        yield running


class TestSnakemakeExecutorSuite(TestWorkflowsMinioPlayStorageBase):
    __test__ = True
    cloud: LocalCloud

    @pytest.fixture(autouse=True)
    def _on_local_cloud(self, cloud: LocalCloud) -> None:
        self.cloud = cloud

    def get_executor(self) -> str:
        return "aws-basic-batch-sls"

    def get_executor_settings(self) -> Optional[ExecutorSettingsBase]:  # noqa: UP045 (the base's signature)
        return ExecutorSettings(stack=self.cloud.stack_name, region=REGION, endpoint_url=self.endpoint_url)

    def get_assume_shared_fs(self) -> bool:
        return False  # Batch jobs share no file system with Snakemake

    @property
    def endpoint_url(self) -> str:
        return self.cloud.endpoint.url

    @property
    def access_key(self) -> str:
        return CREDENTIALS["AWS_ACCESS_KEY_ID"]

    @property
    def secret_key(self) -> str:
        return CREDENTIALS["AWS_SECRET_ACCESS_KEY"]
