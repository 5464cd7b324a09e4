"""StartExecution without a name gets a generated one (a UUID), as on AWS; moto names it "None"."""

from __future__ import annotations

import uuid
from typing import Any

from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from .patches import Patches


def install(patches: Patches) -> None:
    original = StepFunctionsParserBackend.start_execution

    def start_execution(self: StepFunctionsParserBackend, state_machine_arn: str, name: Any = None,
                        *args: Any, **kwargs: Any) -> Any:  # fmt: skip
        return original(self, state_machine_arn, name or str(uuid.uuid4()), *args, **kwargs)

    patches.replace(StepFunctionsParserBackend, "start_execution", start_execution)
