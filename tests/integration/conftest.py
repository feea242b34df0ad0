"""Fixtures for tests that run the real Terraform and moto's server."""

import os
import shutil
from collections.abc import Iterator

import pytest

from tests.system_packages import require


@pytest.fixture(scope="session")
def terraform_env() -> dict[str, str]:
    """The environment Terraform tests run with; a missing Terraform fails in CI, skips
    elsewhere (with the reason)."""
    if shutil.which("terraform") is None and not os.environ.get("CODEGEN_TERRAFORM"):
        require("terraform is not on PATH", "Terraform >= 1.5")
    return dict(os.environ)


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """A fresh AWS emulator (moto, answering as the local stage's does) on a free loopback
    port, stopped after the module."""
    from local_stage.emulator.server import Emulator

    emulator = Emulator()
    emulator.start()
    yield emulator.url
    emulator.stop()
