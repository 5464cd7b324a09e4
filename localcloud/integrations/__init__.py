"""What moto lacks for Step Functions and EventBridge, patched into it in this process.

``install(deployment, env, workdir)`` returns an :class:`Integrations`; ``stop()`` takes every patch out
and stops every thread and invocation process. Installed by :class:`localcloud.cloud.LocalCloud`.

- :mod:`.lambda_functions`: Lambda Invoke (RequestResponse, Event, DryRun) runs the real handler in a
  fresh process (:mod:`localcloud.lambda_invoke`); the Step Functions ``lambda:invoke`` task uses it.
- :mod:`.sfn_parameters`: SFN-cased parameters and responses for service integrations
  (``batch:submitJob(.sync)``, ``events:putEvents``, ``lambda:invoke``, ``aws-sdk:*``...).
- :mod:`.sfn_batch_sync`: StopExecution during ``batch:submitJob.sync`` terminates the job, as on AWS.
- :mod:`.sfn_status_events`: "Step Functions Execution Status Change" events.
- :mod:`.sfn_execution_names`: StartExecution without a name gets a UUID.
- :mod:`.event_targets`: EventBridge Lambda and Step Functions targets, target Input/InputPath.
- :mod:`.schedules`: ``rate(...)`` rules fire on a timer; :meth:`Integrations.fire_schedule` fires now.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from . import (
    event_targets,
    lambda_functions,
    sfn_batch_sync,
    sfn_execution_names,
    sfn_parameters,
    sfn_status_events,
)
from .event_targets import TargetDelivery
from .lambda_functions import FunctionRunner
from .patches import Patches
from .schedules import Schedules

__all__ = ["Integrations", "install"]

_lock = threading.Lock()
_active: Integrations | None = None


class Integrations:
    def __init__(self, function_code: dict[str, Path], env: dict[str, str], workdir: Path) -> None:
        self.patches = Patches()
        self.functions = FunctionRunner(function_code, env, workdir)
        self.targets = TargetDelivery(self.functions, env)
        self.schedules = Schedules(self.targets.deliver)

    def register_function(self, name: str, code_dir: Path) -> None:
        """Run ``name``'s handler from ``code_dir`` (for functions created outside the stack)."""
        self.functions.function_code[name] = Path(code_dir)

    def fire_schedule(self, rule_name: str) -> dict[str, Any]:
        """Put the scheduled rule's event to its targets now; returns the event."""
        return self.schedules.fire(rule_name)

    def stop(self) -> None:
        global _active
        with _lock:
            if _active is self:
                _active = None
        self.schedules.stop()
        self.patches.restore()
        self.targets.stop()
        self.functions.stop()


def install(deployment: Any, env: dict[str, str], workdir: Path) -> Integrations:
    """Patch moto in this process; ``deployment.function_code`` says which handlers run where."""
    global _active
    with _lock:
        if _active is not None:
            raise RuntimeError("integrations are installed already: stop() them first")
        integrations = Integrations(deployment.function_code if deployment else {}, env, Path(workdir))
        lambda_functions.install(integrations.patches, integrations.functions)
        sfn_parameters.install(integrations.patches)
        sfn_batch_sync.install(integrations.patches)
        sfn_status_events.install(integrations.patches)
        sfn_execution_names.install(integrations.patches)
        event_targets.install(integrations.patches, integrations.targets)
        integrations.schedules.start()
        _active = integrations
        return integrations
