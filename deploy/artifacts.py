"""Build the layer and the function zip for a stage (the deploy side's view of layer_builder)."""

from pathlib import Path

from deploy.paths import BUILD_DIR, FUNCTION_SOURCE_DIR, REQUIREMENTS_FILE, SERVICES_FILE
from layer_builder import (
    BuildResult,
    FunctionPackageRequest,
    LayerBuildRequest,
    Target,
    build_layer,
    package_function,
)
from layer_builder.progress import Reporter, stderr_reporter
from layer_builder.services import parse_services_option, read_services


def keep_services_for(option: str | None) -> list[str] | None:
    """The botocore models to keep: lambda/services.txt unless `option` says otherwise.

    None means keep every model (`--keep-services all`).
    """
    if option is None:
        return read_services(SERVICES_FILE)
    return parse_services_option(option)


def build_stage_layer(
    arch: str,
    python: str,
    *,
    keep_services: list[str] | None,
    force: bool = False,
    report: Reporter = stderr_reporter,
    build_dir: Path = BUILD_DIR,
) -> BuildResult:
    request = LayerBuildRequest(
        requirements=REQUIREMENTS_FILE,
        build_dir=build_dir,
        target=Target(arch, python),
        keep_services=keep_services,
        force=force,
    )
    return build_layer(request, report=report)


def package_stage_function(
    *,
    force: bool = False,
    report: Reporter = stderr_reporter,
    source_dir: Path = FUNCTION_SOURCE_DIR,
    build_dir: Path = BUILD_DIR,
) -> BuildResult:
    return package_function(
        FunctionPackageRequest(source_dir, build_dir, force=force), report=report
    )


def describe(result: BuildResult) -> str:
    """One line for the user: built or up to date, where, how big, how long."""
    manifest = result.manifest
    verb = "up to date (inputs unchanged)" if result.up_to_date else "built"
    return (
        f"{manifest.kind} {verb}: {result.zip_path} "
        f"({manifest.zipped_bytes / 1e6:.1f} MB zipped, {manifest.unzipped_bytes / 1e6:.1f} MB "
        f"unzipped, {manifest.files} files) sha256 {manifest.sha256[:16]}… "
        f"in {_duration(result.seconds)}"
    )


def _duration(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"
