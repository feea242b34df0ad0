"""The running local stage, as recorded in .local/stack.json (URLs and the server's pid)
and .local/model.json (the model server's pid, URL and model).

The deploy package reads stack.json (deploy.environment.LOCAL_STACK_FILE) to find the
emulator and the gateway.
"""

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Self

from deploy.environment import LOCAL_STACK_FILE
from deploy.paths import LOCAL_STATE_DIR

STATE_DIR = LOCAL_STATE_DIR
STACK_FILE = LOCAL_STACK_FILE
LOG_DIR = STATE_DIR / "logs"
RUNTIMES_DIR = STATE_DIR / "runtimes"
MODEL_FILE_NAME = "model.json"


class _StateFile:
    """A dataclass kept as a JSON file: written atomically, read as None when absent or
    unreadable (a reader then treats the process it describes as not running)."""

    def write(self, path: Path) -> None:
        """Atomically: a reader sees the old file or the new one, never half of one."""
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=f".{path.stem}-", dir=path.parent)
        try:
            with os.fdopen(handle, "w") as out:
                json.dump(asdict(self), out, indent=2)  # type: ignore[call-overload]
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    @classmethod
    def read(cls, path: Path) -> Self | None:
        try:
            return cls(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            return None


@dataclass(frozen=True)
class StackState(_StateFile):
    pid: int
    emulator_url: str
    gateway_url: str
    model_url: str | None = None


@dataclass(frozen=True)
class ModelServerState(_StateFile):
    pid: int
    url: str
    model: str  # the model that really answers
    backend: str  # "gguf" or "openai"
    source: str  # the GGUF file, or the OpenAI-compatible server's URL#model
