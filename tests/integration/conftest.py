"""Fixtures for tests that run the real Terraform and moto's server."""

import os
import shutil
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def terraform_env() -> dict[str, str]:
    """The environment Terraform tests run with; a missing Terraform fails in CI, skips
    elsewhere (with the reason)."""
    if shutil.which("terraform") is None and not os.environ.get("CODEGEN_TERRAFORM"):
        message = "terraform is not on PATH (install Terraform >= 1.5)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return dict(os.environ)


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """A fresh moto server on a free loopback port, stopped after the module."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    yield f"http://127.0.0.1:{port}"
    server.stop()
