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


# A Bedrock endpoint nobody listens on: modules whose functions never call the model say
# `LOCAL_MODEL = False` and their stage starts no model server (a call would fail at once).
_NO_MODEL = "http://127.0.0.1:9"


@pytest.fixture(scope="module")
def local_stage(request, tmp_path_factory) -> Iterator[LocalStage]:
    if shutil.which("terraform") is None and not os.environ.get("CODEGEN_TERRAFORM"):
        pytest.fail("terraform is not on PATH (install Terraform >= 1.5)")
    root = tmp_path_factory.mktemp("local-stage")
    needs_model = getattr(request.module, "LOCAL_MODEL", True)
    state, started = supervisor.up(
        model=None if needs_model else supervisor.ModelChoice(bedrock_url=_NO_MODEL),
        state_dir=root / "state",
        python=load_stage("local").python_version,
        report=lambda line: None,
    )
    assert started
    try:
        yield LocalStage(state, root, dict(os.environ))
    finally:
        supervisor.down(state_dir=root / "state")
