"""Run records: conditional writes on the run's control item; terminal states are final."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .arrays import snakemake_jobs
from .job_record import EXPIRES_AT, RUN_CONTROL_JOB_ID, JobRecord, item_key, now_iso, serialize
from .run_record import RUN_KIND, RUN_KIND_ATTRIBUTE, RUN_TERMINAL, RUNS_INDEX, RunRecord, RunStatus
from .writes import STATUS, deserialize, put_new_item, status_not_in, update_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_FINISHED, _FINISHED_VALUES = status_not_in(RUN_TERMINAL)
_NOT_FINISHED = f"attribute_not_exists(#{STATUS}) OR {_FINISHED}"


def job_counts(records: Iterable[JobRecord]) -> dict[str, int]:
    """Jobs of the run by status (array children as their array shows them; arrays not counted)."""
    return dict(Counter(str(r.status) for r in snakemake_jobs(records)))


class RunStore:
    def __init__(self, client: DynamoDBClient, table_name: str, ttl_days: int = 30) -> None:
        self.client = client
        self.table_name = table_name
        self.ttl_seconds = ttl_days * 86400

    def _update(self, run_id: str, assign: Mapping[str, Any], if_absent: Mapping[str, Any] = {}) -> bool:
        """SET fields on a run that is not finished; False if it already is."""
        absent = {
            RUN_KIND_ATTRIBUTE: RUN_KIND,
            "created_at": now_iso(),
            EXPIRES_AT: int(time.time()) + self.ttl_seconds,
            **if_absent,
        }
        return update_item(
            self.client,
            self.table_name,
            item_key(run_id, RUN_CONTROL_JOB_ID),
            assign,
            absent,
            condition=_NOT_FINISHED,
            condition_names={f"#{STATUS}": STATUS},
            condition_values=_FINISHED_VALUES,
        )

    def create(self, run_id: str, trigger: str, request: Mapping[str, Any] | None) -> bool:
        """Record a requested run; False if the run already exists (a duplicate trigger)."""
        item = {
            "run_id": run_id,
            "job_id": RUN_CONTROL_JOB_ID,
            RUN_KIND_ATTRIBUTE: RUN_KIND,
            "status": RunStatus.REQUESTED.value,
            "trigger": trigger,
            "created_at": now_iso(),
            EXPIRES_AT: int(time.time()) + self.ttl_seconds,
            **({"request": json.dumps(request)} if request is not None else {}),
        }
        return put_new_item(self.client, self.table_name, item, absent=STATUS)

    def begin(self, run_id: str, trigger: str) -> bool:
        """A run that Snakemake drives itself (the plugin, not the coordinator): RUNNING from the start,
        so `aws-basic-batch-sls runs` lists it. False if a run with this id has already finished."""
        return self._update(
            run_id, {"status": RunStatus.RUNNING.value, "started_at": now_iso()}, {"trigger": trigger}
        )

    def started(self, run_id: str, execution_arn: str) -> bool:
        return self._update(run_id, {"execution_arn": execution_arn})

    def start(self, run_id: str, execution_arn: str, trigger: str | None, request: Mapping[str, Any]) -> bool:
        return self._update(
            run_id,
            {
                "status": RunStatus.RUNNING.value,
                "execution_arn": execution_arn,
                "request": json.dumps(request),
                "started_at": now_iso(),
            },
            {"trigger": trigger or "unknown"},
        )

    def finish(
        self,
        run_id: str,
        status: RunStatus,
        cause: str | None,
        counts: Mapping[str, int],
        coordinator_job_id: str | None = None,
        execution_arn: str | None = None,
    ) -> bool:
        return self._update(
            run_id,
            {
                "status": status.value,
                "cause": cause[:4000] if cause else None,
                "job_counts": dict(counts),
                "coordinator_job_id": coordinator_job_id,
                "execution_arn": execution_arn,
                "finished_at": now_iso(),
            },
        )

    def get(self, run_id: str) -> RunRecord | None:
        item = self.client.get_item(
            TableName=self.table_name, Key=item_key(run_id, RUN_CONTROL_JOB_ID), ConsistentRead=True
        ).get("Item")
        if not item or "status" not in item:
            return None
        return RunRecord.model_validate(deserialize(item))

    def recent(self, limit: int = 50) -> list[RunRecord]:
        response = self.client.query(
            TableName=self.table_name,
            IndexName=RUNS_INDEX,
            KeyConditionExpression="#kind = :kind",
            ExpressionAttributeNames={"#kind": RUN_KIND_ATTRIBUTE},
            ExpressionAttributeValues={":kind": serialize(RUN_KIND)},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [RunRecord.model_validate(deserialize(item)) for item in response["Items"]]
