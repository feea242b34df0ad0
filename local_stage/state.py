"""The running local stage, as recorded in .local/stack.json (URLs and the server's pid).

The deploy package reads the same file (deploy.environment.LOCAL_STACK_FILE) to find the
emulator and the gateway.
"""

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from deploy.environment import LOCAL_STACK_FILE
from deploy.paths import LOCAL_STATE_DIR

STATE_DIR = LOCAL_STATE_DIR
STACK_FILE = LOCAL_STACK_FILE
LOG_DIR = STATE_DIR / "logs"
RUNTIMES_DIR = STATE_DIR / "runtimes"


@dataclass(frozen=True)
class StackState:
    pid: int
    emulator_url: str
    gateway_url: str
    model_url: str | None = None
    model_pid: int | None = None

    def write(self, path: Path = STACK_FILE) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=".stack-", dir=path.parent)
        with os.fdopen(handle, "w") as out:
            json.dump(asdict(self), out, indent=2)
        os.replace(temp, path)

    @classmethod
    def read(cls, path: Path = STACK_FILE) -> "StackState | None":
        try:
            return cls(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            return None
