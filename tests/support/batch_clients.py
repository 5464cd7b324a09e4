"""Real botocore Batch clients for other botocore versions (moto in-process lacks TerminateJobs)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import botocore.session


def batch_client_without_terminate_jobs(tmp_path: Path) -> Any:
    """A real botocore client for an older Batch model: the same service-2 JSON minus TerminateJobs."""
    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    model = loader.load_service_model("batch", "service-2")
    del model["operations"]["TerminateJobs"]
    version = model["metadata"]["apiVersion"]
    target = tmp_path / "batch" / version
    target.mkdir(parents=True)
    (target / "service-2.json.gz").write_bytes(gzip.compress(json.dumps(model).encode()))
    (target / "service-2.json").write_text(json.dumps(model))
    loader.search_paths.insert(0, str(tmp_path))
    client = session.create_client("batch", region_name="us-east-1")
    assert "TerminateJobs" not in client.meta.service_model.operation_names
    return client
