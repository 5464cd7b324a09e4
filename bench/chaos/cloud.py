"""The local cloud every scenario runs on: simulated execution, a fixed seed, the knobs it is given."""

from __future__ import annotations

from typing import Any

from localcloud.batch import BatchRuntimeConfig
from localcloud.cloud import LocalCloud

from ..harness import HERE, OutputWriter


def chaos_cloud(seconds: float, cloud: dict[str, Any] | None = None, **batch: Any) -> LocalCloud:
    """A local cloud with simulated execution (each job RUNNING ``seconds``) and the given knobs."""
    knobs = {"on_simulated_success": OutputWriter(), "image_dirs": {"*": HERE}, "seed": 5, **batch}
    config = BatchRuntimeConfig(simulate=True, simulate_seconds=seconds, **knobs)
    return LocalCloud(batch_config=config, dynamodb_process=True, seed=5, **(cloud or {}))
