"""Stage settings, in one place.

Each stage's Terraform variables file (`terraform/stages/<stage>.tfvars.json`) is the single
source of what Terraform and the tooling both need (region, architecture, ...); JSON so that
Python reads the very file Terraform reads. What only the tooling needs is declared here.
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploy.paths import STAGE_VARS_DIR, TERRAFORM_DIR
from layer_builder.errors import UserError

DEFAULT_STAGE = "local"
# Every variable's default: Terraform gets this file before the stage's own, the tooling
# merges the two the same way, so neither can see a value the other does not.
DEFAULTS_FILE = TERRAFORM_DIR / "defaults.tfvars.json"
# A stage name becomes a path (.stages/<name>, terraform/stages/<name>.tfvars.json) and part of
# resource names: the same rule as the `stage` variable's validation in terraform/variables.tf.
STAGE_NAME_PATTERN = "^[a-z][a-z0-9-]{0,15}$"


class StageError(UserError):
    """An unknown stage or an unreadable stage file; the message says what to do."""


@dataclass(frozen=True)
class Stage:
    name: str
    # True for the stage served by the local emulator instead of a real AWS account.
    emulated: bool
    variables: dict[str, Any]
    var_file: Path

    @property
    def region(self) -> str:
        return str(self.variables["aws_region"])

    @property
    def arch(self) -> str:
        return str(self.variables["architecture"])

    @property
    def python_version(self) -> str:
        """The Lambda runtime's Python (python<version>), which the layer is built for."""
        return str(self.variables["python_version"])

    @property
    def var_files(self) -> list[Path]:
        """What Terraform reads, in order: the defaults, then the stage's own values."""
        return [DEFAULTS_FILE, self.var_file]

    @property
    def account_id(self) -> str | None:
        """The AWS account the stage must deploy to (`aws_account_id`), if it names one."""
        value = self.variables.get("aws_account_id")
        return None if value is None else str(value)

    @property
    def protected(self) -> bool:
        """`protected_stage`: refuse local state, ask before deploy and destroy."""
        return bool(self.variables.get("protected_stage", False))


_EMULATED = {"local": True, "dev": False, "prod": False}


def stage_names() -> list[str]:
    return sorted(path.name.removesuffix(".tfvars.json") for path in _var_files())


def _var_files() -> list[Path]:
    return list(STAGE_VARS_DIR.glob("*.tfvars.json"))


def load_stage(name: str) -> Stage:
    if not re.fullmatch(STAGE_NAME_PATTERN, name):
        raise StageError(
            f"invalid stage name {name!r}: use 1-16 lower-case letters, digits or dashes, "
            f"starting with a letter (known stages: {', '.join(stage_names())})"
        )
    var_file = STAGE_VARS_DIR / f"{name}.tfvars.json"
    if not var_file.is_file():
        raise StageError(
            f"unknown stage {name!r}: known stages are {', '.join(stage_names())} "
            f"(a stage is a file terraform/stages/<stage>.tfvars.json)"
        )
    variables = {**_read_json(DEFAULTS_FILE), **_read_json(var_file)}
    return Stage(name, _EMULATED.get(name, False), variables, var_file)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        variables = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise StageError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(variables, dict):
        raise StageError(f"{path} must hold a JSON object of Terraform variables")
    return variables
