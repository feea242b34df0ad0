"""The build loop shared by the layer and the function zip.

Hash the inputs; if the manifest says the same inputs already produced a zip that is still
there with the recorded sha256, do nothing. Otherwise collect files, zip them reproducibly,
check the limits, name the zip by its content hash, write the manifest, drop the stale zip.
"""

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layer_builder.errors import BuildError
from layer_builder.fingerprint import base64_sha256, file_sha256, hash_inputs
from layer_builder.limits import check_zip_limits
from layer_builder.manifest import Manifest
from layer_builder.progress import Reporter, step
from layer_builder.reproducible_zip import write_reproducible_zip
from layer_builder.result import BuildResult


@dataclass(frozen=True)
class Collected:
    entries: dict[str, Path]  # archive name -> file
    packages: dict[str, str] = field(default_factory=dict)


# Fills a scratch directory and says which of its files (or others) go into the zip.
Collector = Callable[[Path], Collected]


@dataclass(frozen=True)
class ArtifactSpec:
    kind: str  # "layer" | "function"
    name: str  # file stem, e.g. "layer-x86_64-py3.12" or "function"
    build_dir: Path
    inputs: dict[str, Any]
    target: dict[str, str]
    builder_version: str

    @property
    def manifest_path(self) -> Path:
        return self.build_dir / f"{self.name}.json"


def current_if_up_to_date(spec: ArtifactSpec, input_hash: str) -> Manifest | None:
    """The existing manifest when it matches these inputs and its zip is intact."""
    manifest = Manifest.read(spec.manifest_path)
    if manifest is None or manifest.input_hash != input_hash:
        return None
    zip_path = manifest.zip_path(spec.manifest_path)
    if not zip_path.is_file() or zip_path.stat().st_size != manifest.zipped_bytes:
        return None
    if file_sha256(zip_path) != manifest.sha256:
        return None
    return manifest


def build_artifact(
    spec: ArtifactSpec,
    collect: Collector,
    *,
    force: bool,
    report: Reporter,
    extra_check: Callable[[int], None] = lambda unzipped: None,
) -> BuildResult:
    started = time.perf_counter()
    input_hash = hash_inputs({"builder_version": spec.builder_version, **spec.inputs})
    if not force:
        existing = current_if_up_to_date(spec, input_hash)
        if existing is not None:
            return BuildResult(existing, spec.manifest_path, True, time.perf_counter() - started)
    previous = Manifest.read(spec.manifest_path)
    report(f"building {spec.name}: {_why_rebuild(force, previous, input_hash)}")

    def check(zipped: int, unzipped: int) -> None:
        check_zip_limits(spec.name, zipped, unzipped)
        extra_check(unzipped)

    with tempfile.TemporaryDirectory(prefix=f"{spec.kind}-build-") as scratch:
        collected = collect(Path(scratch))
        if not collected.entries:
            raise BuildError(f"{spec.kind}: nothing to zip (no files were collected)")
        with step(report, f"zipping {len(collected.entries)} files"):
            written = write_reproducible_zip(
                collected.entries,
                spec.build_dir,
                name_for=lambda sha: f"{spec.name}-{sha[:16]}.zip",
                check=check,
            )
    manifest = Manifest(
        kind=spec.kind,
        input_hash=input_hash,
        zip_name=written.path.name,
        sha256=written.sha256,
        base64_sha256=base64_sha256(written.sha256),
        zipped_bytes=written.zipped_bytes,
        unzipped_bytes=written.unzipped_bytes,
        files=written.files,
        builder_version=spec.builder_version,
        target=spec.target,
        packages=collected.packages,
    )
    manifest.write(spec.manifest_path)
    if previous is not None and previous.zip_name != manifest.zip_name:
        previous.zip_path(spec.manifest_path).unlink(missing_ok=True)
    return BuildResult(manifest, spec.manifest_path, False, time.perf_counter() - started)


def _why_rebuild(force: bool, previous: Manifest | None, input_hash: str) -> str:
    if force:
        return "forced"
    if previous is None:
        return "no previous build"
    if previous.input_hash != input_hash:
        return "inputs changed"
    return "previous zip missing or altered"
