"""DynamoDB in a moto server process of its own: on AWS it is a service apart, not a share of one GIL.

The main moto process serves SQS, EventBridge, Batch, S3, Step Functions and Lambda's API, and runs
the local Batch. At a thousand jobs, moto's DynamoDB (about 7 ms of Python per conditional
UpdateItem) queued behind all of that and set the pace of the whole control plane. With this on,
the stack's tables are created from the template in the main process as usual (CloudFormation),
then moved here with the same keys, indexes and TTL (and deleted there, so a client pointed at the
wrong endpoint fails loudly), and every client is pointed at this process with
`AWS_ENDPOINT_URL_DYNAMODB`: botocore's service-specific endpoint, which wins over
`AWS_ENDPOINT_URL` (the plugin honours it over its endpoint_url setting too).
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from . import dynamodb_meter, moto_dispatch, moto_dynamodb
from .endpoint import free_port

ENDPOINT_ENV = "AWS_ENDPOINT_URL_DYNAMODB"
_START_TIMEOUT_SECONDS = 60.0


class DynamoDBServer:
    def __init__(self, log_path: Path, other_port: int | None = None) -> None:
        self.port = free_port(taken=other_port)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> DynamoDBServer:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", __name__, "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + _START_TIMEOUT_SECONDS
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the DynamoDB moto server exited with code {self.process.returncode}; see {self.log_path}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/moto-api/data.json", timeout=2):
                    return self
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(
                        f"the DynamoDB moto server did not answer on {self.url} within "
                        f"{_START_TIMEOUT_SECONDS:.0f} s; see {self.log_path}"
                    ) from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def move_tables(self, source: Any, target: Any, table_names: list[str]) -> None:
        """Re-create each table of `source` (a DynamoDB client) in `target` with the same definition,
        then delete it from `source`: a client that missed AWS_ENDPOINT_URL_DYNAMODB gets a clear
        ResourceNotFoundException rather than an empty table of the same name."""
        for name in table_names:
            table = source.describe_table(TableName=name)["Table"]
            request: dict[str, Any] = {
                "TableName": name,
                "KeySchema": table["KeySchema"],
                "AttributeDefinitions": table["AttributeDefinitions"],
                "BillingMode": "PAY_PER_REQUEST",
                "SSESpecification": {"Enabled": True},
            }
            indexes = [
                {"IndexName": i["IndexName"], "KeySchema": i["KeySchema"], "Projection": i["Projection"]}
                for i in table.get("GlobalSecondaryIndexes", [])
            ]
            if indexes:
                request["GlobalSecondaryIndexes"] = indexes
            target.create_table(**request)
            ttl = source.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
            if ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
                target.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
                )
            source.delete_table(TableName=name)


def main(argv: list[str]) -> None:
    """moto's server, dispatching as the main endpoint does (see :mod:`localcloud.moto_dispatch`)."""
    import moto.server

    class QuietRequestHandler(moto.server.MotoRequestHandler):
        """No access-log line per request: formatting and writing it was about 8% of this process's
        time in a 10,000-job run (py-spy), and nobody reads it. Errors are still logged."""

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            return None

    vars(moto.server)["MotoRequestHandler"] = QuietRequestHandler  # what moto's main serves with
    moto_dispatch.install()
    moto_dynamodb.install()
    dynamodb_meter.install()  # request units per run, for the benchmark's cost figures
    moto.server.main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
