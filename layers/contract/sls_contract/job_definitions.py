"""Job definitions: describing the user's, and deriving revisions that carry secrets or an image.

SubmitJob's containerOverrides cannot carry secrets or an image, so a rule that asks for either runs
on a revision derived from its base definition, registered once per distinct (base, secrets, image)
under a name prefix this stack's IAM policy allows, and reused afterwards.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import BotoCoreError, ClientError

from .batch_errors import classify
from .errors import PermanentSubmitError
from .spec import JobSpec

if TYPE_CHECKING:
    from mypy_boto3_batch import BatchClient

# Keys of a described job definition that RegisterJobDefinition accepts back unchanged.
_REGISTER_KEYS = (
    "type",
    "parameters",
    "schedulingPriority",
    "retryStrategy",
    "propagateTags",
    "timeout",
    "tags",
    "platformCapabilities",
    "containerProperties",
)


class JobDefinitions:
    """Cached per process (a Lambda container lives for many invocations)."""

    def __init__(self, batch: BatchClient, derived_prefix: str) -> None:
        self.batch = batch
        self.derived_prefix = derived_prefix
        self._described: dict[str, dict[str, Any]] = {}
        self._derived: dict[str, str] = {}

    def describe(self, name_or_arn: str) -> dict[str, Any]:
        """The ACTIVE definition (latest revision when no revision is given)."""
        if name_or_arn not in self._described:
            try:
                response = self.batch.describe_job_definitions(jobDefinitions=[name_or_arn], status="ACTIVE")
            except (ClientError, BotoCoreError) as exc:
                raise classify(exc, f"describing job definition {name_or_arn}") from exc
            found = [d for d in response.get("jobDefinitions", []) if d.get("status", "ACTIVE") == "ACTIVE"]
            if not found:
                raise PermanentSubmitError(
                    f"job definition {name_or_arn!r} does not exist or is not ACTIVE; "
                    "register it or fix aws_batch_job_definition / the stack's JobDefinitionArn"
                )
            # A plain dict, not the stubs' TypedDict: its keys are copied by name (_REGISTER_KEYS) into
            # the derived definition's RegisterJobDefinition request.
            self._described[name_or_arn] = cast("dict[str, Any]", max(found, key=lambda d: d["revision"]))
        return self._described[name_or_arn]

    def is_fargate(self, name_or_arn: str) -> bool:
        return "FARGATE" in self.describe(name_or_arn).get("platformCapabilities", [])

    def resolve(self, spec: JobSpec) -> str:
        """The job definition to submit to: the spec's own, or a derived revision."""
        if not spec.secrets and spec.container_image is None:
            return spec.job_definition
        base = self.describe(spec.job_definition)
        container = dict(base.get("containerProperties") or {})
        if not container:
            raise PermanentSubmitError(
                f"job definition {spec.job_definition!r} has no containerProperties, so per-rule "
                "secrets or a container image cannot be applied to it"
            )
        secrets = {s["name"]: s for s in container.get("secrets", [])}
        secrets.update({s.name: s.model_dump() for s in spec.secrets})
        container["secrets"] = [secrets[name] for name in sorted(secrets)]
        if spec.container_image is not None:
            container["image"] = spec.container_image
        fingerprint = hashlib.sha256(
            json.dumps([base["jobDefinitionArn"], container], sort_keys=True).encode()
        ).hexdigest()[:16]
        name = f"{self.derived_prefix}-{fingerprint}"
        if name not in self._derived:
            self._derived[name] = self._find_or_register(name, base, container)
        return self._derived[name]

    def _find_or_register(self, name: str, base: dict[str, Any], container: dict[str, Any]) -> str:
        try:
            existing = self.batch.describe_job_definitions(jobDefinitionName=name, status="ACTIVE")
            active = [d for d in existing.get("jobDefinitions", []) if d.get("status") == "ACTIVE"]
            if active:
                return max(active, key=lambda d: d["revision"])["jobDefinitionArn"]
            request = {key: base[key] for key in _REGISTER_KEYS if key in base}
            request["containerProperties"] = container
            response = self.batch.register_job_definition(jobDefinitionName=name, **request)
        except (ClientError, BotoCoreError) as exc:
            raise classify(exc, f"registering derived job definition {name}") from exc
        return response["jobDefinitionArn"]
