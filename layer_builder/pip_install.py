"""Install requirements for the Lambda platform with pip, from a fresh virtual environment.

The venv isolates the build from whatever the build machine's Python has installed; the
`--platform/--implementation/--python-version/--only-binary` flags make pip choose the wheels
Lambda needs (manylinux, the runtime's CPython) instead of the build machine's.
"""

import ensurepip
import re
import subprocess
import sys
import venv
from collections.abc import Callable
from pathlib import Path

from layer_builder.errors import BuildError
from layer_builder.progress import Reporter, step
from layer_builder.targets import Target

# (requirements file, target platform, directory to install into, progress reporter)
Installer = Callable[[Path, Target, Path, Reporter], None]

_NO_MATCH = re.compile(r"No matching distribution found for (\S+)")
_VERSIONS = re.compile(r"from versions: ([^)]*)\)")


def pip_version() -> str:
    """The pip every fresh venv gets (from this Python's ensurepip): part of the input hash."""
    return ensurepip.version()


def pip_command(python: Path, requirements: Path, target: Target, dest: Path) -> list[str]:
    platforms = [arg for tag in target.platform_tags for arg in ("--platform", tag)]
    return [
        str(python),
        "-m",
        "pip",
        "install",
        "--requirement",
        str(requirements),
        "--target",
        str(dest),
        *platforms,
        "--implementation",
        "cp",
        "--python-version",
        target.python_version,
        "--abi",
        f"cp{target.python_nodot}",
        "--abi",
        "abi3",
        "--abi",
        "none",
        "--only-binary=:all:",
        "--no-compile",  # the build Python's bytecode is useless to the runtime's
        "--no-input",
        "--disable-pip-version-check",
        "--progress-bar",
        "off",
    ]


def install_with_pip(
    requirements: Path, target: Target, dest: Path, report: Reporter, *, workdir: Path
) -> None:
    """Create a venv under `workdir` and pip-install `requirements` into `dest`."""
    env_dir = workdir / "venv"
    with step(report, "creating a clean virtual environment"):
        venv.EnvBuilder(with_pip=True, clear=True, symlinks=sys.platform != "win32").create(env_dir)
    python = env_dir / "bin" / "python"
    with step(report, f"pip install for {target.platform_tag} cp{target.python_nodot}"):
        completed = subprocess.run(
            pip_command(python, requirements, target, dest),
            capture_output=True,
            text=True,
            check=False,
        )
    if completed.returncode != 0:
        raise BuildError(explain_pip_failure(completed.stdout + completed.stderr, target))


def explain_pip_failure(output: str, target: Target) -> str:
    """Turn pip's output into a message naming the package and the platform."""
    platform = f"{target.platform_tag} / CPython {target.python_version} (binary wheels only)"
    missing = _NO_MATCH.search(output)
    if missing:
        requirement = missing.group(1)
        versions = _VERSIONS.search(output)
        available = versions.group(1).strip() if versions else ""
        if available and available != "none":
            shown = ", ".join(available.split(", ")[-8:])
            hint = (
                f"that version does not exist for this platform; recent versions available: "
                f"{shown}. Fix the pin in the requirements file"
            )
        else:
            hint = (
                "no wheel at all for this platform (or no such package, or the registry is "
                "unreachable). Pick a package or version that publishes manylinux wheels"
            )
        return f"pip found no distribution of {requirement} for {platform}: {hint}"
    tail = "\n".join(output.strip().splitlines()[-15:])
    return f"pip failed installing the layer for {platform}:\n{tail}"
