"""A Terraform working directory per stage: the root configuration linked in, plus the
stage's backend and the build's artifact variables.

Each stage gets its own directory (its own `.terraform/`, lock file and, for local state, its
own state file), so stages never share state and can be planned side by side. The shared
configuration under terraform/ is linked, not copied: there is one source of truth.
"""

import contextlib
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploy.paths import REPO_ROOT, TERRAFORM_DIR
from deploy.stages import Stage, StageError
from layer_builder.result import BuildResult

WORK_ROOT = REPO_ROOT / ".stages"


class StageBusy(StageError):
    """Another command is changing the same stage right now."""


ARTIFACT_VARS = "artifacts.auto.tfvars.json"
_BACKEND_FILE = "backend.tf"
_INIT_MARKER = ".init-inputs"


@dataclass(frozen=True)
class Workdir:
    path: Path
    stage: Stage
    backend_config: Path | None  # -backend-config file for a remote backend
    # The Terraform the backend needs, and why (S3-native locking: 1.10); None: any.
    backend_needs: tuple[tuple[int, int, int], str] | None = None

    @property
    def plan_file(self) -> Path:
        return self.path / "tfplan"

    @property
    def state_file(self) -> Path:
        return self.path / "terraform.tfstate"

    def var_files(self) -> list[Path]:
        return self.stage.var_files

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the stage's lock while changing it: a second deploy, plan or destroy of the same
        stage stops at once with a clear message instead of racing this one (and Terraform's
        own state lock covers local and S3 state as well). The OS drops the lock when the
        holder dies, however it dies, so a killed deploy never leaves the stage locked."""
        lock_path = self.path / ".deploy.lock"
        with lock_path.open("a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                raise StageBusy(
                    f"stage {self.stage.name} is being changed by {holder}: wait for it to "
                    f"finish, then run this again"
                ) from None
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()} (since {time.strftime('%H:%M:%S')})")
            handle.flush()
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def local_outputs(self) -> dict[str, Any] | None:
        """The outputs in the local state file ({} when nothing is deployed), or None when
        the state lives in a remote backend (ask Terraform then)."""
        state = self._local_state()
        outputs = state.get("outputs") if state is not None else None
        if not isinstance(outputs, dict):
            return None
        return {name: item.get("value") for name, item in outputs.items()}

    def local_resource_types(self) -> set[str] | None:
        """The types of the resources in the local state (empty when nothing is deployed), or
        None when the state lives in a remote backend or cannot be read here."""
        state = self._local_state()
        resources = state.get("resources") if state is not None else None
        if not isinstance(resources, list):
            return None
        return {str(item.get("type")) for item in resources if isinstance(item, dict)}

    def _local_state(self) -> dict[str, Any] | None:
        """The local state file's content (an empty state when there is no file yet), or None
        when the state lives in a remote backend or cannot be read here (let Terraform say
        what is wrong)."""
        if self.backend_config is not None:
            return None
        try:
            state = json.loads(self.state_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"outputs": {}, "resources": []}
        except (OSError, ValueError):
            return None
        return state if isinstance(state, dict) else None

    def needs_init(self) -> bool:
        marker = self.path / _INIT_MARKER
        return not (self.path / ".terraform").is_dir() or (
            not marker.is_file() or marker.read_text() != self._init_inputs()
        )

    def mark_initialised(self) -> None:
        (self.path / _INIT_MARKER).write_text(self._init_inputs())

    def _init_inputs(self) -> str:
        """What makes `terraform init` necessary again: backend, module and provider needs."""
        digest = hashlib.sha256()
        sources = sorted(TERRAFORM_DIR.rglob("*.tf"))
        for path in [self.path / _BACKEND_FILE, *sources]:
            digest.update(str(path.relative_to(path.anchor)).encode())
            if path.name in {_BACKEND_FILE, "versions.tf"} or path.parent == TERRAFORM_DIR:
                digest.update(path.read_bytes())
        if self.backend_config is not None:
            digest.update(self.backend_config.read_bytes())
        digest.update(os.environ.get("CODEGEN_TF_PROVIDER_MIRROR", "").encode())
        return digest.hexdigest()


def prepare_workdir(stage: Stage, root: Path = WORK_ROOT, source: Path = TERRAFORM_DIR) -> Workdir:
    path = root / stage.name
    path.mkdir(parents=True, exist_ok=True)
    for item in [*source.glob("*.tf"), source / "modules"]:
        _link(path / item.name, item)
    for stale in path.glob("*.tf"):
        if stale.is_symlink() and not stale.exists():
            stale.unlink()
    backend_config, needs = _write_backend(stage, path)
    return Workdir(path, stage, backend_config, needs)


def write_artifact_vars(workdir: Workdir, layer: BuildResult, function: BuildResult) -> Path:
    """Point Terraform at the built zips; auto-loaded from the working directory."""
    values = {
        "layer_zip_path": str(layer.zip_path.resolve()),
        "layer_zip_base64_sha256": layer.manifest.base64_sha256,
        "function_zip_path": str(function.zip_path.resolve()),
        "function_zip_base64_sha256": function.manifest.base64_sha256,
    }
    target = workdir.path / ARTIFACT_VARS
    target.write_text(json.dumps(values, indent=2) + "\n", encoding="utf-8")
    return target


def _link(link: Path, target: Path) -> None:
    if link.is_symlink() and link.resolve() == target.resolve():
        return
    if link.is_symlink() or link.is_file():
        link.unlink()
    link.symlink_to(target.resolve())


def _write_backend(
    stage: Stage, path: Path
) -> tuple[Path | None, tuple[tuple[int, int, int], str] | None]:
    """Local state in the stage's directory, unless terraform/stages/<stage>.backend.json
    configures a remote S3 backend (with S3-native locking); and the Terraform it needs."""
    settings_file = stage.var_file.with_name(f"{stage.name}.backend.json")
    backend_tf = path / _BACKEND_FILE
    if not settings_file.is_file():
        _write_if_changed(backend_tf, 'terraform {\n  backend "local" {}\n}\n')
        return None, None
    try:
        settings = json.loads(settings_file.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise StageError(f"{settings_file} is not valid JSON: {exc}") from exc
    kind = settings.pop("type", "s3")
    if kind != "s3" or not {"bucket", "key"} <= set(settings):
        raise StageError(
            f'{settings_file}: a backend needs type "s3", bucket and key (see '
            f"terraform/stages/dev.backend.json.example)"
        )
    _write_if_changed(backend_tf, 'terraform {\n  backend "s3" {}\n}\n')
    config = path / "backend.s3.tfbackend"
    lines = [f"{key} = {json.dumps(value)}" for key, value in sorted(settings.items())]
    _write_if_changed(config, "\n".join(lines) + "\n")
    needs = None
    if settings.get("use_lockfile"):
        needs = ((1, 10, 0), f"{settings_file.name} sets use_lockfile (S3-native state locking)")
    return config, needs


def _write_if_changed(path: Path, text: str) -> None:
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def reset_state(workdir: Workdir) -> None:
    """Forget a stage's local Terraform state (the emulator it described is gone)."""
    for name in ("terraform.tfstate", "terraform.tfstate.backup", "tfplan"):
        (workdir.path / name).unlink(missing_ok=True)
