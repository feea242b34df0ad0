"""The pinned tools with many dependencies (checkov, schemathesis, matplotlib), each in a venv
of its own that `scripts/tool.sh` makes on first use: where a tool's executables are."""

import subprocess
from pathlib import Path

from deploy.paths import REPO_ROOT


def tool_bin(name: str) -> Path:
    """The bin directory of the pinned tool `name` (installed now if it is not yet).
    Raises CalledProcessError when it cannot be installed."""
    found = subprocess.run(
        ["bash", "scripts/tool.sh", name],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(found.stdout.strip())
