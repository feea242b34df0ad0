"""Build the dependencies layer (`python/...`) for a Lambda platform."""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from layer_builder.artifact import ArtifactSpec, Collected, build_artifact
from layer_builder.layout import installed_packages, layer_entries, rewrite_records
from layer_builder.pip_install import Installer, install_with_pip, pip_version
from layer_builder.progress import Reporter, stderr_reporter
from layer_builder.requirements import read_requirements
from layer_builder.result import BuildResult
from layer_builder.targets import Target
from layer_builder.version import BUILDER_VERSION


@dataclass(frozen=True)
class LayerBuildRequest:
    requirements: Path
    build_dir: Path
    target: Target
    # None keeps every botocore service model; a list keeps only those services' data.
    keep_services: Sequence[str] | None = None
    force: bool = False


def layer_name(target: Target) -> str:
    return f"layer-{target.label}"


def build_layer(
    request: LayerBuildRequest,
    *,
    report: Reporter = stderr_reporter,
    installer: Installer | None = None,
) -> BuildResult:
    """Build (or confirm up to date) the layer zip and its manifest in `request.build_dir`."""
    target = request.target
    requirements = read_requirements(request.requirements)
    keep = None if request.keep_services is None else sorted(set(request.keep_services))
    spec = ArtifactSpec(
        kind="layer",
        name=layer_name(target),
        build_dir=request.build_dir,
        inputs={
            "kind": "layer",
            "requirements": requirements,
            "arch": target.arch,
            "python": target.python_version,
            "platform": target.platform_tag,
            "keep_services": keep,
            "pip": pip_version(),
        },
        target={"arch": target.arch, "python": target.python_version, "runtime": target.runtime},
        builder_version=BUILDER_VERSION,
    )

    def collect(scratch: Path) -> Collected:
        site_packages = scratch / "python"
        install = installer or partial(install_with_pip, workdir=scratch)
        install(request.requirements, target, site_packages, report)
        entries = layer_entries(site_packages, keep_services=keep)
        rewrite_records(site_packages, entries)
        return Collected(
            entries=entries,
            packages=installed_packages(site_packages),
        )

    return build_artifact(spec, collect, force=request.force, report=report)
