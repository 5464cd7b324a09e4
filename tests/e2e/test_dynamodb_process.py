"""The local cloud with DynamoDB in a moto process of its own (what the benchmark uses)."""

import socket

import pytest

from sls_contract import stack_outputs
from tests.e2e.conftest import _cloud

pytestmark = pytest.mark.e2e


def test_a_workflow_runs_with_dynamodb_in_its_own_process_which_stops_with_the_cloud(workflows, template):
    clouds = _cloud(workflows, dynamodb_process=True)
    driver = next(clouds)
    server = driver.cloud.dynamodb
    try:
        # GIVEN the stack's table moved to the DynamoDB process with the template's keys and indexes
        # (moto's CloudFormation leaves TTL off, so there is none to copy)
        table = driver.cloud.deployment.outputs[stack_outputs.JOBS_TABLE_NAME]
        main = driver.cloud.session().client("dynamodb", endpoint_url=driver.cloud.endpoint.url)
        own = driver.cloud.client("dynamodb")
        assert own.meta.endpoint_url == server.url != driver.cloud.endpoint.url
        moved = own.describe_table(TableName=table)["Table"]
        expected = template["Resources"]["JobsTable"]["Properties"]
        assert moved["KeySchema"] == expected["KeySchema"]
        assert {i["IndexName"]: i["KeySchema"] for i in moved["GlobalSecondaryIndexes"]} == {
            i["IndexName"]: i["KeySchema"] for i in expected["GlobalSecondaryIndexes"]
        }
        # AND gone from the main process: a client pointed at the wrong place fails loudly
        with pytest.raises(main.exceptions.ResourceNotFoundException):
            main.describe_table(TableName=table)

        # WHEN a workflow runs
        run = driver.run("demo.smk", "--config", "samples=2")

        # THEN the functions and the plugin used that process
        assert run.returncode == 0, run.output[-3000:]
        assert len(run.records) == 5 and {r.status for r in run.records} == {"SUCCEEDED"}
    finally:
        next(clouds, None)

    # AND stopping the cloud stops the process and frees its port
    assert server.process.poll() is not None
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", server.port)) != 0
