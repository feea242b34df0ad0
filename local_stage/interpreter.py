"""The Python that runs a function locally: the runtime's own version where this machine has
it, in a small virtual environment holding only the Lambda runtime client (awslambdaric).

The function's own dependencies come from its layer, as on Lambda; the venv adds nothing else.
"""

import glob
import logging
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

AWSLAMBDARIC = "awslambdaric==4.2.2"


class RuntimeSetupError(Exception):
    """No usable interpreter or runtime client; the message says what to install."""


@dataclass(frozen=True)
class RuntimeInterpreter:
    python: Path  # the venv's python
    version: str  # e.g. "3.12"
    exact: bool  # False when falling back to another Python version


def find_python(version: str) -> Path | None:
    """An interpreter of `version` that really runs (pyenv shims may exist but fail)."""
    candidates = [shutil.which(f"python{version}")]
    for root in (os.environ.get("PYENV_ROOT"), str(Path.home() / ".pyenv")):
        if root:
            pattern = str(Path(root) / "versions" / f"{version}.*" / "bin" / f"python{version}")
            candidates += sorted(glob.glob(pattern), reverse=True)
    candidates += [f"/usr/bin/python{version}", f"/usr/local/bin/python{version}"]
    for candidate in candidates:
        if candidate and _reports_version(candidate, version):
            return Path(candidate)
    return None


def _reports_version(python: str, version: str) -> bool:
    try:
        completed = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, timeout=20, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return False
    return completed.returncode == 0 and completed.stdout.strip() == version


def ensure_runtime(version: str, root: Path, report=print) -> RuntimeInterpreter:
    """A venv under `root` for the runtime's Python with awslambdaric installed (made once)."""
    python = find_python(version)
    exact = python is not None
    if python is None:
        python = Path(sys.executable)
        report(
            f"warning: no python{version} on this machine; running functions with Python "
            f"{sys.version_info.major}.{sys.version_info.minor}. This works while every "
            f"package in the layer is pure Python; install Python {version} for fidelity"
        )
    actual = version if exact else f"{sys.version_info.major}.{sys.version_info.minor}"
    env_dir = root / f"python{actual}"
    venv_python = env_dir / "bin" / "python"
    marker = env_dir / ".awslambdaric"
    if venv_python.exists() and marker.is_file() and marker.read_text() == AWSLAMBDARIC:
        return RuntimeInterpreter(venv_python, actual, exact)
    report(f"setting up the local Lambda runtime (python{actual} + {AWSLAMBDARIC}) ...")
    shutil.rmtree(env_dir, ignore_errors=True)
    _run([str(python), "-m", "venv", str(env_dir)], "create the runtime venv")
    _run([str(venv_python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
          AWSLAMBDARIC], f"install {AWSLAMBDARIC}")  # fmt: skip
    marker.write_text(AWSLAMBDARIC)
    return RuntimeInterpreter(venv_python, actual, exact)


def _run(command: list[str], what: str) -> None:
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        tail = "\n".join((completed.stdout + completed.stderr).strip().splitlines()[-10:])
        raise RuntimeSetupError(f"could not {what}:\n{tail}")
