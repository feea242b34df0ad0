"""A local stage of the tests' own (own state dir, own Terraform working directory), and
helpers to deploy function variants to it through the real Terraform."""

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from deploy.deployer import StageDeployer
from deploy.stages import Stage, load_stage
from local_stage import supervisor
from local_stage.contract import StackState

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@dataclass
class LocalStage:
    state: StackState
    root: Path
    env: dict[str, str]

    def deployer(self, source: Path, **overrides) -> StageDeployer:
        base = load_stage("local")
        variables = {**base.variables, **overrides}
        var_file = self.root / "local.tfvars.json"
        var_file.write_text(json.dumps(variables))
        stage = Stage("local", True, variables, var_file)
        return StageDeployer(
            stage,
            work_root=self.root / "work",
            base_env=self.env,
            emulator_url=self.state.emulator_url,
            sink=None,
            report=lambda line: None,
            build_dir=self.root / "build",
            function_source=source,
        )

    def url(self, stage: str = "local", path: str = "/code-generation") -> str:
        return f"{self.state.gateway_url}/{stage}{path}"


@pytest.fixture(scope="module")
def local_stage(tmp_path_factory) -> Iterator[LocalStage]:
    if shutil.which("terraform") is None and not os.environ.get("CODEGEN_TERRAFORM"):
        pytest.fail("terraform is not on PATH (install Terraform >= 1.5)")
    root = tmp_path_factory.mktemp("local-stage")
    state, started = supervisor.up(
        state_dir=root / "state",
        python=load_stage("local").python_version,
        report=lambda line: None,
    )
    assert started
    try:
        yield LocalStage(state, root, dict(os.environ))
    finally:
        supervisor.down(state_dir=root / "state")


def write_function(root: Path, handler_source: str, files: dict[str, str] | None = None) -> Path:
    """A function source tree whose codegen/handler.py is `handler_source`."""
    source = root / "lambda"
    if source.exists():
        shutil.rmtree(source)
    (source / "codegen").mkdir(parents=True)
    (source / "codegen" / "__init__.py").write_text("")
    (source / "codegen" / "handler.py").write_text(handler_source)
    for name, text in (files or {}).items():
        (source / name).write_text(text)
    return source
