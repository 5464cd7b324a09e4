"""moto's server on 127.0.0.1 on a free port, configured for what the local cloud needs."""

from __future__ import annotations

import copy
import json
import logging
import os
import socket
import urllib.request
from typing import Any

from moto.core.config import default_user_config
from moto.server import ThreadedMotoServer

from . import moto_dispatch, moto_dynamodb, moto_sqs

REGION = "us-east-1"
ACCOUNT = "123456789012"
# Dummy credentials: moto accepts anything; real ones must never reach it.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "localcloud", "AWS_SECRET_ACCESS_KEY": "localcloud"}


def free_port(taken: int | None = None) -> int:
    """A port free on 127.0.0.1 now, other than ``taken`` (picked by another server not yet bound)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port != taken:
            return port


class MotoEndpoint:
    """A ThreadedMotoServer in this process (so the Batch runtime can hook into moto's backends)."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._saved_config: dict[str, Any] | None = None
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)

    def start(self) -> MotoEndpoint:
        moto_sqs.install()
        moto_dispatch.install()
        moto_dynamodb.install()
        # Step Functions service integrations call http://localhost:$MOTO_PORT (see DESIGN.md).
        os.environ["MOTO_PORT"] = str(self.port)
        self._server.start()
        # moto's configuration is process-wide: what it was, to put back on stop (in-process mock_aws tests
        # run after a local cloud must get moto's defaults, e.g. its usual Step Functions backend).
        self._saved_config = copy.deepcopy(default_user_config)
        config = {"batch": {"use_docker": False}, "stepfunctions": {"execute_state_machine": True}}
        request = urllib.request.Request(
            f"{self.url}/moto-api/config", data=json.dumps(config).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=10):
            pass
        return self

    def stop(self) -> None:
        # moto's backends live in this process, not in the server: forget everything, so a later
        # local cloud in the same process starts empty.
        try:
            request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
            with urllib.request.urlopen(request, timeout=10):
                pass
        except OSError:
            pass  # the server never started
        self._server.stop()
        if self._saved_config is not None:
            default_user_config.clear()
            default_user_config.update(self._saved_config)
            self._saved_config = None

    def client_env(self) -> dict[str, str]:
        """What a process needs in its environment to talk to this endpoint with boto3."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            **CREDENTIALS,
        }
