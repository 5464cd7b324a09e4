"""Standard state machine executions put "Step Functions Execution Status Change" events, as on AWS.

moto puts none. On the default bus, source aws.states, resources [executionArn], one event when an
execution starts (RUNNING) and one when it ends: SUCCEEDED, FAILED, TIMED_OUT (the machine's
TimeoutSeconds) or ABORTED (StopExecution). Dates are epoch milliseconds; ``input``/``output`` are JSON
strings, ``output`` only for SUCCEEDED. Express executions put none (as on AWS).
"""

from __future__ import annotations

import datetime
import json
import logging
from typing import Any

from moto.events.models import events_backends
from moto.stepfunctions.parser.api import StateMachineType
from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication, Execution

from .patches import Patches

logger = logging.getLogger(__name__)
DETAIL_TYPE = "Step Functions Execution Status Change"


def _epoch_ms(value: datetime.datetime | None) -> int | None:
    return int(value.timestamp() * 1000) if value else None


def status_detail(execution: Execution, status: str) -> dict[str, Any]:
    succeeded = status == "SUCCEEDED"
    return {
        "executionArn": execution.exec_arn,
        "stateMachineArn": execution.state_machine_arn,
        "name": execution.name,
        "status": status,
        "startDate": _epoch_ms(execution.start_date),
        "stopDate": None if status == "RUNNING" else _epoch_ms(execution.stop_date),
        "input": json.dumps(execution.input_data, separators=(",", ":")),
        "output": json.dumps(execution.output, separators=(",", ":")) if succeeded else None,
        "inputDetails": {"included": True},
        "outputDetails": {"included": True} if succeeded else None,
        "error": execution.error,
        "cause": execution.cause,
    }


def put_status_event(execution: Execution, status: str) -> None:
    if execution.sm_type != StateMachineType.STANDARD:
        return
    entry = {
        "Source": "aws.states",
        "DetailType": DETAIL_TYPE,
        "Detail": json.dumps(status_detail(execution, status)),
        "Resources": [execution.exec_arn],
    }
    try:
        events_backends[execution.account_id][execution.region_name].put_events([entry])
    except Exception:  # a broken rule target must not break the execution
        logger.exception("could not put the status change of %s", execution.exec_arn)


def install(patches: Patches) -> None:
    original_start = Execution.start
    original_terminated = BaseExecutionWorkerCommunication.terminated

    def start(self: Execution) -> None:
        put_status_event(self, "RUNNING")  # before the worker thread can end the execution
        original_start(self)

    def terminated(self: BaseExecutionWorkerCommunication) -> None:
        original_terminated(self)
        status = self.execution.exec_status
        put_status_event(self.execution, status.value if hasattr(status, "value") else str(status))

    patches.replace(Execution, "start", start)
    patches.replace(BaseExecutionWorkerCommunication, "terminated", terminated)
