"""A deployer of the emulated `local` stage into directories of the caller's own, for tests and
benches: its own Terraform working directory, build directory and variables file (the stage's
variables with the caller's overrides), against an emulator it names, reporting nothing."""

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from deploy.deployer import StageDeployer
from deploy.paths import FUNCTION_SOURCE_DIR
from deploy.stages import DEFAULT_STAGE, Stage, load_stage


def scratch_deployer(
    root: Path,
    emulator_url: str,
    source: Path | None = None,
    *,
    base_env: Mapping[str, str] | None = None,
    credentials: tuple[str, str] | None = None,
    **overrides: Any,
) -> StageDeployer:
    """A deployer of the local stage under `root` (work/, build/, local.tfvars.json) with
    `overrides` over its variables; the function's code from `source` (default: lambda/);
    `credentials`, the emulator's signing pair (a stack's `StackState.credentials`; default:
    the running stack's, or an emulator's own default). Deployers made with the same `root`
    share one Terraform state."""
    base = load_stage(DEFAULT_STAGE)
    variables = {**base.variables, **overrides}
    root.mkdir(parents=True, exist_ok=True)
    var_file = root / f"{base.name}.tfvars.json"
    var_file.write_text(json.dumps(variables))
    return StageDeployer(
        Stage(base.name, base.emulated, variables, var_file),
        work_root=root / "work",
        base_env=dict(os.environ if base_env is None else base_env),
        emulator_url=emulator_url,
        emulator_credentials=credentials,
        sink=None,
        report=lambda line: None,
        build_dir=root / "build",
        function_source=source or FUNCTION_SOURCE_DIR,
    )
