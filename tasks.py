"""The tasks people type: `invoke --list` shows them. Thin: parse options, call packages, print."""

from invoke import Exit, task

from deploy.artifacts import (
    build_stage_layer,
    describe,
    keep_services_for,
    package_stage_function,
)
from deploy.stages import DEFAULT_STAGE, LAMBDA_PYTHON, StageError, load_stage
from layer_builder import BuildError


def _fail(message: str) -> Exit:
    return Exit(f"error: {message}", code=1)


@task(
    help={
        "stage": f"stage whose architecture to build for (default {DEFAULT_STAGE})",
        "arch": "x86_64 or arm64 (default: the stage's architecture)",
        "python": f"Lambda Python version (default {LAMBDA_PYTHON})",
        "force": "rebuild even when the inputs are unchanged",
        "keep_services": "botocore models to keep: comma-separated, or 'all' "
        "(default: lambda/services.txt)",
    }
)
def build_layer(c, stage=DEFAULT_STAGE, arch=None, python=LAMBDA_PYTHON, force=False,
                keep_services=None):  # fmt: skip
    """Build the boto3 layer zip for the Lambda platform (reproducible; skipped if unchanged)."""
    try:
        target_arch = arch or load_stage(stage).arch
        keep = keep_services_for(keep_services)
        result = build_stage_layer(target_arch, python, keep_services=keep, force=force)
    except (BuildError, StageError) as exc:
        raise _fail(str(exc)) from None
    print(describe(result))


@task(help={"force": "repackage even when the sources are unchanged"})
def package(c, force=False):
    """Zip the function's source (lambda/) reproducibly; skipped if unchanged."""
    try:
        result = package_stage_function(force=force)
    except BuildError as exc:
        raise _fail(str(exc)) from None
    print(describe(result))
