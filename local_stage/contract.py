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
# The credentials of a local server started on its own (a test's in-process emulator, a model
# server run by hand). A stack `local.up` starts has a random pair of its own instead, kept in
# its 0600 stack file: nothing else on the machine can sign for it (local_stage.emulator
# checks every AWS API request's signature, the gateway and the model server theirs).
DEFAULT_CREDENTIALS = ("test", "test")
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
# How `local.up` hands one token and one credential pair ("KEY:SECRET") to both of its
# servers (read once, then removed from the environment, so nothing they start inherits them).
TOKEN_VARIABLE = "CODEGEN_LOCAL_TOKEN"
CREDENTIALS_VARIABLE = "CODEGEN_LOCAL_CREDENTIALS"


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
    # What every AWS API request to the stack must be signed with (local.up's random pair).
    access_key: str = DEFAULT_CREDENTIALS[0]
    secret_key: str = DEFAULT_CREDENTIALS[1]

    @property
    def credentials(self) -> tuple[str, str]:
        return self.access_key, self.secret_key

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


def new_credentials() -> tuple[str, str]:
    """A stack's own access key id (AWS-shaped: 20 upper-case characters) and secret."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    key_id = "AKIA" + "".join(secrets.choice(alphabet) for _ in range(16))
    return key_id, secrets.token_urlsafe(30)


def server_credentials() -> tuple[str, str]:
    """The pair a local server checks signatures against: the one `local.up` handed it (then
    gone from the environment), else DEFAULT_CREDENTIALS (a server started on its own)."""
    handed = os.environ.pop(CREDENTIALS_VARIABLE, "")
    key_id, _, secret = handed.partition(":")
    return (key_id, secret) if key_id and secret else DEFAULT_CREDENTIALS


def running_stack(state_dir: Path = STATE_DIR) -> StackState | None:
    """What the stage server recorded about itself, or None (it may still have died since)."""
    return StackState.read(state_dir / STACK_FILE_NAME)


def running_model(state_dir: Path = STATE_DIR) -> ModelServerState | None:
    return ModelServerState.read(state_dir / MODEL_FILE_NAME)
