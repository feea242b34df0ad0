"""The Python that runs a function locally: the runtime's own version where this machine has
it, in a small virtual environment holding only the Lambda runtime client (awslambdaric).

The function's own dependencies come from its layer, as on Lambda; the venv adds nothing else.

awslambdaric talks to the Runtime API through one native module, `runtime_client` (a C++
binding that publishes Linux wheels only and does not build on macOS). Two ways to run it:
- `native`: awslambdaric installed by pip, its C++ client included (the default on Linux);
- `http`: awslambdaric's pure-Python files (taken from its Linux wheel, which any OS can
  download) with `runtime_client` replaced by local_stage/runtime/http_client/, the same four
  calls over `http.client` (the default elsewhere, e.g. macOS; CODEGEN_LAMBDA_RUNTIME_CLIENT
  chooses either on any OS, which is how CI proves both).
"""

import glob
import logging
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from layer_builder.errors import UserError

logger = logging.getLogger(__name__)

AWSLAMBDARIC = "awslambdaric==4.2.2"
# awslambdaric's own requirements, pinned so both clients run on the same packages.
AWSLAMBDARIC_REQUIREMENTS = ("simplejson==4.3.0", "snapshot-restore-py==1.0.0")
CLIENT_VARIABLE = "CODEGEN_LAMBDA_RUNTIME_CLIENT"
CLIENTS = ("native", "http")
HTTP_CLIENT_DIR = Path(__file__).resolve().parent / "http_client"
# The Linux wheel whose pure-Python files the http client runs with (the same files in
# every wheel of a release; only the native module differs).
_PURE_SOURCE_PLATFORM = ("manylinux2014_x86_64", "3.12")


class RuntimeSetupError(UserError):
    """No usable interpreter or runtime client; the message says what to install."""


@dataclass(frozen=True)
class RuntimeInterpreter:
    python: Path  # the venv's python
    version: str  # e.g. "3.12"
    exact: bool  # False when falling back to another Python version
    client: str = "native"  # how awslambdaric reaches the Runtime API: native or http
    extra_path: tuple[Path, ...] = ()  # put on the worker's PYTHONPATH after the code's own


def runtime_client() -> str:
    """Which runtime client to use: CODEGEN_LAMBDA_RUNTIME_CLIENT, else native on Linux (the
    only OS awslambdaric's C++ client builds on) and http elsewhere."""
    chosen = os.environ.get(CLIENT_VARIABLE, "").strip().lower()
    if not chosen:
        return "native" if sys.platform.startswith("linux") else "http"
    if chosen not in CLIENTS:
        raise RuntimeSetupError(
            f"{CLIENT_VARIABLE}={chosen!r}: use 'native' (awslambdaric's C++ client, Linux) "
            "or 'http' (its pure-Python bootstrap over http.client, any OS)"
        )
    return chosen


def available_clients() -> tuple[str, ...]:
    """The runtime clients this OS can run: both on Linux, `http` elsewhere (awslambdaric's
    C++ client neither installs nor builds outside Linux)."""
    return CLIENTS if sys.platform.startswith("linux") else ("http",)


def find_python(version: str) -> Path | None:
    """An interpreter of `version` that really runs (pyenv shims may exist but fail)."""
    candidates = [shutil.which(f"python{version}")]
    for root in (os.environ.get("PYENV_ROOT"), str(Path.home() / ".pyenv")):
        if root:
            pattern = str(Path(root) / "versions" / f"{version}.*" / "bin" / f"python{version}")
            candidates += sorted(glob.glob(pattern), reverse=True)
    candidates += [
        f"/usr/bin/python{version}",
        f"/usr/local/bin/python{version}",
        f"/opt/homebrew/bin/python{version}",
    ]
    for candidate in candidates:
        if candidate and _reports_version(candidate, version):
            return Path(candidate)
    return None


def _reports_version(python: str, version: str) -> bool:
    try:
        completed = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return completed.returncode == 0 and completed.stdout.strip() == version


def ensure_runtime(
    version: str, root: Path, report=print, client: str | None = None
) -> RuntimeInterpreter:
    """A venv under `root` for the runtime's Python with awslambdaric installed (made once
    per Python version and client; `client` defaults to `runtime_client()`)."""
    client = client or runtime_client()
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
    env_dir = root / f"python{actual}-{client}"
    venv_python = env_dir / "bin" / "python"
    pure_dir = env_dir / "awslambdaric-pure"
    extra_path = (HTTP_CLIENT_DIR, pure_dir) if client == "http" else ()
    interpreter = RuntimeInterpreter(venv_python, actual, exact, client, extra_path)
    marker = env_dir / ".installed"
    wanted = " ".join((AWSLAMBDARIC, *AWSLAMBDARIC_REQUIREMENTS))
    if venv_python.exists() and marker.is_file() and marker.read_text() == wanted:
        return interpreter
    report(
        f"setting up the local Lambda runtime (python{actual} + {AWSLAMBDARIC}, {client} "
        "client) ..."
    )
    shutil.rmtree(env_dir, ignore_errors=True)
    _run([str(python), "-m", "venv", str(env_dir)], "create the runtime venv")
    pip = [str(venv_python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    if client == "native":
        _run([*pip, AWSLAMBDARIC, *AWSLAMBDARIC_REQUIREMENTS], f"install {AWSLAMBDARIC}")
    else:
        _run([*pip, *AWSLAMBDARIC_REQUIREMENTS], "install awslambdaric's requirements")
        platform, python_version = _PURE_SOURCE_PLATFORM
        _run(
            [
                *pip,
                "--no-deps",
                "--only-binary",
                ":all:",
                "--platform",
                platform,
                "--implementation",
                "cp",
                "--python-version",
                python_version,
                "--target",
                str(pure_dir),
                AWSLAMBDARIC,
            ],
            f"fetch {AWSLAMBDARIC}'s pure-Python files",
        )
        for native in pure_dir.glob("runtime_client*"):  # never loaded: ours comes first
            native.unlink()
    marker.write_text(wanted)
    return interpreter


def _run(command: list[str], what: str) -> None:
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        tail = "\n".join((completed.stdout + completed.stderr).strip().splitlines()[-10:])
        raise RuntimeSetupError(f"could not {what}:\n{tail}")
