"""Zip the function's source tree (`lambda/`) the same reproducible way as the layer."""

import fnmatch
from dataclasses import dataclass
from pathlib import Path

from layer_builder.artifact import ArtifactSpec, Collected, build_artifact
from layer_builder.errors import BuildError
from layer_builder.fingerprint import hash_tree
from layer_builder.limits import check_unzipped_total
from layer_builder.manifest import Manifest
from layer_builder.progress import Reporter, stderr_reporter
from layer_builder.result import BuildResult
from layer_builder.version import BUILDER_VERSION

# Shipped (an allow-list): the function's Python packages, i.e. top-level directories holding
# an __init__.py, and inside them only source and data files of these kinds. Anything else
# in lambda/ (a stray .env, keys, notes, the layer's requirements) never reaches Lambda.
SHIPPED_SUFFIXES = {".py", ".json", ".txt", ".yaml", ".yml"}
# Never shipped even inside a package: tests, caches and editors' files.
EXCLUDED_DIRS = {"__pycache__", "tests", "test", "node_modules"}
EXCLUDED_FILES = ("test_*.py", "*_test.py", "conftest.py")


@dataclass(frozen=True)
class FunctionPackageRequest:
    source_dir: Path
    build_dir: Path
    force: bool = False


def function_files(source_dir: Path) -> dict[str, Path]:
    """Archive name (relative to `source_dir`) -> file, for what the allow-list ships."""
    files: dict[str, Path] = {}
    packages = [
        path
        for path in sorted(source_dir.iterdir())
        if path.is_dir() and (path / "__init__.py").is_file()
    ]
    for package in packages:
        for path in package.rglob("*"):
            relative = path.relative_to(source_dir)
            if any(part.startswith(".") for part in relative.parts):
                continue  # hidden: .env, .git, editor swap files
            if any(part in EXCLUDED_DIRS for part in relative.parts[:-1]):
                continue
            if not path.is_file() or path.is_symlink() or path.suffix not in SHIPPED_SUFFIXES:
                continue
            if any(fnmatch.fnmatch(path.name, pattern) for pattern in EXCLUDED_FILES):
                continue
            files[relative.as_posix()] = path
    return files


def package_function(
    request: FunctionPackageRequest, *, report: Reporter = stderr_reporter
) -> BuildResult:
    if not request.source_dir.is_dir():
        raise BuildError(f"function source directory not found: {request.source_dir}")
    files = function_files(request.source_dir)
    if not any(name.endswith(".py") for name in files):
        raise BuildError(f"no Python source under {request.source_dir}: nothing to package")
    spec = ArtifactSpec(
        kind="function",
        name="function",
        build_dir=request.build_dir,
        inputs={"kind": "function", "tree": hash_tree(files)},
        target={},
        builder_version=BUILDER_VERSION,
    )

    def with_layers(unzipped: int) -> None:
        """Function plus each layer built beside it must fit Lambda's unzipped limit."""
        for manifest_path in sorted(request.build_dir.glob("layer-*.json")):
            layer = Manifest.read(manifest_path)
            if layer is not None:
                check_unzipped_total({"function": unzipped, layer.zip_name: layer.unzipped_bytes})

    return build_artifact(
        spec,
        lambda scratch: Collected(entries=files),
        force=request.force,
        report=report,
        extra_check=with_layers,
    )
