"""Step Functions service integrations with SFN-cased parameters, as AWS accepts them.

moto's ``StateTaskService._normalise_parameters`` / ``_normalise_response`` are empty stubs, so
``{"JobName": ..., "ContainerOverrides": {"Command": ...}}`` reaches boto3 as is and fails. These
implementations do what LocalStack's do: convert the parameters with the boto operation's input shape
(``_to_boto_request``: JobName -> jobName, nested structures and lists too) and the response back with
its output shape (``_from_boto_response``: jobId -> JobId), which is the shape AWS returns to the ASL.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import botocore.exceptions
import botocore.session
from botocore.model import OperationModel
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (
    StateTaskService,
)
from moto.stepfunctions.parser.utils import camel_to_snake_case

from .patches import Patches

logger = logging.getLogger(__name__)


@functools.lru_cache(maxsize=64)
def operation_model(service_name: str, action: str) -> OperationModel | None:
    """The botocore operation of ``service_name`` whose name is ``action`` in any casing, if any."""
    try:
        service = botocore.session.get_session().get_service_model(service_name)
    except botocore.exceptions.UnknownServiceError:
        logger.warning("no botocore model for %s: %s parameters passed as written", service_name, action)
        return None
    wanted = camel_to_snake_case(action)
    for name in service.operation_names:
        if camel_to_snake_case(name) == wanted:
            return service.operation_model(name)
    logger.warning("%s has no operation %s: parameters passed as written", service_name, action)
    return None


def _normalise_parameters(
    self: StateTaskService,
    parameters: dict,
    boto_service_name: str | None = None,
    service_action_name: str | None = None,
) -> None:
    model = operation_model(
        self._get_boto_service_name(boto_service_name), self._get_boto_service_action(service_action_name)
    )
    if model is not None and model.input_shape is not None:
        self._to_boto_request(parameters, model.input_shape)


def _normalise_response(
    self: StateTaskService,
    response: Any,
    boto_service_name: str | None = None,
    service_action_name: str | None = None,
) -> None:
    model = operation_model(
        self._get_boto_service_name(boto_service_name), self._get_boto_service_action(service_action_name)
    )
    if model is not None and model.output_shape is not None:
        self._from_boto_response(response, model.output_shape)


def install(patches: Patches) -> None:
    patches.replace(StateTaskService, "_normalise_parameters", _normalise_parameters)
    patches.replace(StateTaskService, "_normalise_response", _normalise_response)
