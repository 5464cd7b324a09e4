"""The local cloud's moto server configures moto for itself and gives the process moto's defaults back."""

from __future__ import annotations

import copy

from moto.core.config import default_user_config

from localcloud.endpoint import MotoEndpoint


def test_stopping_the_endpoint_puts_moto_configuration_back() -> None:
    before = copy.deepcopy(default_user_config)
    endpoint = MotoEndpoint().start()
    try:
        # while it runs: what the local cloud needs (Step Functions executing, Batch without docker)
        assert default_user_config["stepfunctions"]["execute_state_machine"] is True
        assert default_user_config["batch"]["use_docker"] is False
    finally:
        endpoint.stop()
    # afterwards: in-process mock_aws tests in the same pytest process see moto's own settings
    assert default_user_config == before
