"""One local stack per Lambda runtime client per test run, its stage deployed from empty once;
each test declares the stage variant it needs and gets it as an in-place update.

A variant is a function source tree and variables over the stage's own. `LocalStage.deploy`
applies it through the real Terraform only when it is not the variant already deployed, so
the tests that share a variant pay for it once, and no test depends on what ran before it.

Tests marked `runtime_client` run on a stack of each client this OS has (both on Linux,
`http` on macOS); every other test runs on one of them (tests/conftest.py chooses which).
"""

import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from deploy.deployer import DeployReport, StageDeployer
from deploy.paths import LAMBDA_DIR
from deploy.scratch import scratch_deployer
from deploy.stages import load_stage
from local_stage import supervisor
from local_stage.contract import StackState
from local_stage.runtime.interpreter import CLIENTS, available_clients
from tests.conftest import stack_client
from tests.e2e.helpers import BASE_VARIABLES, CREDENTIALS, write_function


def tree_digest(root: Path) -> str:
    """A digest of a source tree's files (paths and bytes), compiled caches left out."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


@dataclass
class LocalStage:
    """The shared local stack (its state and directory) and the stage variant it serves."""

    state: StackState
    root: Path
    client: str
    _deployed: tuple[str, str] | None = field(default=None, repr=False)
    _outputs: dict[str, Any] = field(default_factory=dict, repr=False)

    def deploy(self, source: Path = LAMBDA_DIR, **overrides: Any) -> DeployReport:
        """The stage with the function from `source` and `overrides` over its variables (and
        BASE_VARIABLES); `changed` is False when that variant was already deployed."""
        variables = {**BASE_VARIABLES, **overrides}
        variant = (tree_digest(source), json.dumps(variables, sort_keys=True))
        if variant == self._deployed:
            return DeployReport(False, self._outputs)
        self._deployed = None  # a failed deploy leaves the stage in no known variant
        report = self.deployer(source, **overrides).deploy()
        self._deployed, self._outputs = variant, report.outputs
        return report

    def deployer(self, source: Path = LAMBDA_DIR, **overrides: Any) -> StageDeployer:
        """The deployer of this stack's stage (its state), for the variant `overrides` name:
        what a verb such as `invoke eval` is given."""
        variables = {**BASE_VARIABLES, **overrides}
        deployer = scratch_deployer(
            self.root / "stage",
            self.state.emulator_url,
            source,
            credentials=self.state.credentials,
            **variables,
        )
        deployer.target.state_dir = self.state_dir  # this stack's gateway, not `.local`'s
        return deployer

    def function_source(
        self, name: str, handler_source: str, files: dict[str, str] | None = None
    ) -> Path:
        """A function source tree of its own under this stack's directory (see
        `write_function`)."""
        return write_function(self.root / "functions" / name, handler_source, files)

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    def function_log(self, function: str = "codegen-local") -> str:
        return (self.state_dir / "logs" / f"{function}.log").read_text()

    def url(self, stage: str = "local", path: str = "/code-generation") -> str:
        return f"{self.state.gateway_url}/{stage}{path}"


@pytest.hookimpl(trylast=True)  # after pytest has grouped the tests by stack
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each stack's tests together, those marked `breaks_stack` (they stop part of it) last."""

    def place(item: pytest.Item) -> tuple[int, bool]:
        client = stack_client(item)
        if client is None:
            return (-1, False)
        return (CLIENTS.index(client), item.get_closest_marker("breaks_stack") is not None)

    items.sort(key=place)


@pytest.fixture(scope="session")
def local_stage(request, tmp_path_factory) -> Iterator[LocalStage]:
    """The stack of the runtime client this test is parametrized with (tests/conftest.py)."""
    if shutil.which("terraform") is None and not os.environ.get("CODEGEN_TERRAFORM"):
        pytest.fail("terraform is not on PATH (install Terraform >= 1.5)")
    client = request.param
    root = tmp_path_factory.mktemp(f"local-stack-{client}")
    # The stacks of one run share the machine's cores: llama.cpp threads that outnumber the
    # cores spin against each other, and every generation slows down many times over.
    threads = max(1, (os.cpu_count() or 1) // len(available_clients()))
    state, started = supervisor.up(
        model=supervisor.ModelChoice(threads=threads),
        state_dir=root / "state",
        python=load_stage("local").python_version,
        report=lambda line: None,
        client=client,
        credentials=(CREDENTIALS.access_key, CREDENTIALS.secret_key),
    )
    assert started
    try:
        yield LocalStage(state, root, client)
    finally:
        supervisor.down(state_dir=root / "state")  # (a `breaks_stack` test may have already)
