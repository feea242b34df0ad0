"""The local stack's contract: what the tooling (deploy/) and the local stage (local_stage/)
both need to know about a running local stack, in one place.

Where its state files are and how they are read, the credentials it accepts, the path its
servers answer health checks on. Both packages import this module; it imports neither (only
layer_builder's standalone utilities), so the two never reach into each other.
"""

import json
import os
import secrets
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Self

from layer_builder.atomic import write_json_atomically

# .local/ at the repository's root: pids, URLs, logs, unpacked code, runtime venvs.
STATE_DIR = Path(__file__).resolve().parent.parent / ".local"
STACK_FILE_NAME = "stack.json"  # the stage server: gateway and emulator
MODEL_FILE_NAME = "model.json"  # the model server
RUNTIMES_DIR = STATE_DIR / "runtimes"
# Where the tooling leaves the zips it built: the runtime falls back to them when the
# emulator does not hold a deployed zip's bytes.
BUILD_DIR = STATE_DIR.parent / "build"
# The only credentials the local stack accepts, and checks SigV4 signatures against.
ACCESS_KEY = "test"
SECRET_KEY = "test"
ACCOUNT_ID = "123456789012"  # the account the emulator (moto) answers for them
# AWS's rule that the emulator enforces and the preflight checks against, in one place: Lambda
# keeps min(this, the account's limit) of its concurrency unreserved (PutFunctionConcurrency's
# documentation, read 2026-12-06; "...below its minimum value of [10]" on a new account).
LAMBDA_UNRESERVED_MINIMUM = 100
# Every local server answers GET here (the emulator with its instance id).
HEALTH_PATH = "/_local/health"
# Every path under this prefix (health, faults, the console) answers only a caller that shows
# the stack's token, in this header or (for a page's URL and its links) this query parameter.
LOCAL_PREFIX = "/_local/"
TOKEN_HEADER = "X-Local-Token"
TOKEN_QUERY = "token"
# How `local.up` hands one token to both of its servers (read once, then removed from the
# environment, so nothing they start inherits it).
TOKEN_VARIABLE = "CODEGEN_LOCAL_TOKEN"


class _StateFile:
    """A dataclass kept as a JSON file: written atomically and readable by its user only
    (0600: it holds the stack's token), read as None when absent or unreadable (a reader then
    treats the process it describes as not running)."""

    def write(self, path: Path) -> None:
        write_json_atomically(path, asdict(self))  # type: ignore[call-overload]

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
    token: str = ""  # what every /_local/ path asks for

    @property
    def console_url(self) -> str:
        return f"{self.gateway_url}{CONSOLE_PATH}?{TOKEN_QUERY}={self.token}"


@dataclass(frozen=True)
class ModelServerState(_StateFile):
    pid: int
    url: str
    model: str  # the model that really answers
    backend: str  # "gguf" or "openai"
    source: str  # the GGUF file, or the OpenAI-compatible server's URL#model
    token: str = ""  # what every /_local/ path asks for


CONSOLE_PATH = "/_local/console/"


def health_request(server_url: str, token: str) -> urllib.request.Request:
    """A local server's health check, with the stack's token (the guard asks for it)."""
    return urllib.request.Request(server_url + HEALTH_PATH, headers={TOKEN_HEADER: token})


def server_token() -> str:
    """The token a local server guards its /_local/ paths with: the one `local.up` handed it
    (then gone from the environment), else a new random one."""
    return os.environ.pop(TOKEN_VARIABLE, "") or new_token()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def running_stack(state_dir: Path = STATE_DIR) -> StackState | None:
    """What the stage server recorded about itself, or None (it may still have died since)."""
    return StackState.read(state_dir / STACK_FILE_NAME)


def running_model(state_dir: Path = STATE_DIR) -> ModelServerState | None:
    return ModelServerState.read(state_dir / MODEL_FILE_NAME)
