"""An array child's entry point: read this child's own Snakemake command from the jobs table and run it.

AWS Batch gives every child of an array job the same command; only AWS_BATCH_JOB_ARRAY_INDEX tells them
apart. The plugin wrote each child's command beside its record before the array was submitted
(sls_contract/arrays.py); this script, passed to the image's Python with `-c`, finds it by the index
and replaces itself with it. It needs only the standard library and boto3, so a stock Snakemake image
with the S3 storage plugin runs it. Its one argument is a JSON object of the names it needs
(arrays.bootstrap_command), so no name is written twice.
"""

import json
import os
import sys


def _fail(message: str, code: int) -> int:
    print(f"aws-basic-batch-sls array child: {message}", file=sys.stderr, flush=True)
    return code


def main(argv: list[str]) -> int:
    names = json.loads(argv[1])
    env = os.environ
    try:
        run_id, array_id, table = (env[names[key]] for key in ("run_env", "job_env", "table_env"))
        index = int(env["AWS_BATCH_JOB_ARRAY_INDEX"])
    except (KeyError, ValueError) as exc:
        return _fail(
            f"{exc} is missing or wrong in the environment: this command only runs as a child of an "
            "array job submitted by the aws-basic-batch-sls control plane",
            2,
        )
    key = names["command_prefix"] + f"{array_id}-{index}"
    import boto3  # after the checks: a misuse fails fast, without boto3's import time

    try:
        client = boto3.client("dynamodb", region_name=env.get("AWS_REGION") or names.get("region"))
        item = client.get_item(
            TableName=table,
            Key={names["partition_key"]: {"S": run_id}, names["sort_key"]: {"S": key}},
            ConsistentRead=True,
        ).get("Item")
    except Exception as exc:  # any botocore error: say what to grant, whatever it was
        return _fail(
            f"cannot read its command {key} from the jobs table {table}: {exc}. The job role needs "
            "dynamodb:GetItem on that table (README: Array jobs), or turn array jobs off with "
            "--aws-basic-batch-sls-array-min-size 0",
            3,
        )
    if not item or names["command_attribute"] not in item:
        return _fail(f"no command {key} in the jobs table {table} (run {run_id}); was it deleted?", 3)
    command = [part["S"] for part in item[names["command_attribute"]]["L"]]
    print(f"aws-basic-batch-sls array child {index} of array {array_id}: running its command", flush=True)
    os.execvp(command[0], command)
    return 0  # not reached: execvp replaces this process or raises


if __name__ == "__main__":
    sys.exit(main(sys.argv))
