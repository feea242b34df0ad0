"""The deployer of tests and benches (tasks.py builds the user's): a stage (the emulated
`local` unless told) in directories of the caller's own: its own Terraform working directory,
build directory and variables file (the stage's variables with the caller's overrides),
against an emulator it names, reporting nothing unless given where."""

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from deploy.deployer import StageDeployer
from deploy.paths import FUNCTION_SOURCE_DIR
from deploy.stages import DEFAULT_STAGE, Stage, load_stage


def scratch_deployer(
    root: Path,
    emulator_url: str | None,
    source: Path | None = None,
    *,
    stage_file: str = DEFAULT_STAGE,
    base_env: Mapping[str, str] | None = None,
    credentials: tuple[str, str] | None = None,
    state_dir: Path | None = None,
    report: Callable[[str], None] = lambda line: None,
    confirm: Callable[[str], bool] | None = None,
    allow_local_state: bool = False,
    **overrides: Any,
) -> StageDeployer:
    """A deployer of the stage `stage_file` names (its variables; a variable `stage` in
    `overrides` renames it) under `root` (work/, build/, <stage>.tfvars.json) with
    `overrides` over its variables; the function's code from `source` (default: lambda/);
    `credentials`, the emulator's signing pair (a stack's `StackState.credentials`; default:
    the running stack's, or an emulator's own default); `state_dir`, the state directory of
    the stack whose gateway serves the stage (default: `.local`'s). Deployers made with the
    same `root` share one Terraform state. `report`, `confirm` and `allow_local_state` are
    the deployer's own (deploy.deployer.StageDeployer)."""
    base = load_stage(stage_file)
    variables = {**base.variables, **overrides}
    root.mkdir(parents=True, exist_ok=True)
    var_file = root / f"{base.name}.tfvars.json"
    var_file.write_text(json.dumps(variables))
    deployer = StageDeployer(
        Stage(base.name, base.emulated, variables, var_file),
        work_root=root / "work",
        base_env=dict(os.environ if base_env is None else base_env),
        emulator_url=emulator_url,
        emulator_credentials=credentials,
        sink=None,
        report=report,
        confirm=confirm,
        allow_local_state=allow_local_state,
        build_dir=root / "build",
        function_source=source or FUNCTION_SOURCE_DIR,
    )
    if state_dir is not None:
        deployer.target.state_dir = state_dir  # type: ignore[attr-defined]
    return deployer
