"""Start, stop and inspect the local stage as background processes (`invoke local.*`).

Two processes, each started in its own session so that stopping it ends all it started:
- the model server (`local_stage.model.server`): a Bedrock-compatible endpoint with a local
  model, unless the user points the stage at a Bedrock-compatible endpoint of their own;
- the stage server (`local_stage.server`): the AWS emulator, the HTTP API gateway and the
  Lambda runtime workers, which reach the model through AWS_ENDPOINT_URL_BEDROCK_RUNTIME.
"""

import contextlib
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import psutil

from layer_builder.errors import UserError
from local_stage.contract import (
    CREDENTIALS_VARIABLE,
    MODEL_FILE_NAME,
    RUNTIMES_DIR,
    STACK_FILE_NAME,
    STATE_DIR,
    TOKEN_VARIABLE,
    ModelServerState,
    StackState,
    health_request,
    new_credentials,
    new_token,
    running_model,
    running_stack,
)
from local_stage.model.models import ModelNotFound, model_source
from local_stage.runtime.interpreter import CLIENT_VARIABLE, ensure_runtime, runtime_client

SERVER_MODULE = "local_stage.server"
MODEL_MODULE = "local_stage.model.server"
READY_TIMEOUT_S = 60.0
State = TypeVar("State", ModelServerState, StackState)


class LocalStageError(UserError):
    """The local stage could not start or stop; the message says why."""


@dataclass(frozen=True)
class ModelChoice:
    """What answers the function's Bedrock calls on the local stage."""

    gguf: str | None = None  # a GGUF file; None: the default model (SmolLM2-135M-Instruct)
    openai_url: str | None = None  # forward to this OpenAI-compatible server instead
    openai_model: str | None = None
    bedrock_url: str | None = None  # a Bedrock-compatible endpoint of the user's: no server
    threads: int | None = None  # CPU threads of the local model (None: every core)

    def source(self) -> str:
        """What the model server serves: the GGUF file, or URL#model. Raises LocalStageError
        for a choice that cannot work, before anything starts."""
        if self.openai_url and not self.openai_model:
            raise LocalStageError("--openai-url needs --openai-model (the model it serves)")
        try:
            return model_source(self.gguf, self.openai_url, self.openai_model)
        except ModelNotFound as exc:
            raise LocalStageError(str(exc)) from None

    def server_arguments(self) -> list[str]:
        if self.openai_url:
            self.source()
            return ["--openai-url", self.openai_url, "--openai-model", str(self.openai_model)]
        threads = ["--threads", str(self.threads)] if self.threads else []
        return ["--model", self.source(), *threads]

    def served_by(self, running: "Status") -> bool:
        """True when the running stage already answers with this choice."""
        if running.state is None:
            return False
        if self.bedrock_url:
            return running.state.model_url == self.bedrock_url
        model = running.model
        return (
            model is not None
            and model.url == running.state.model_url
            and model.source == self.source()
        )


@dataclass(frozen=True)
class Status:
    running: bool
    state: StackState | None
    healthy: bool
    model: ModelServerState | None = None


def status(state_dir: Path = STATE_DIR) -> Status:
    state = running_stack(state_dir)
    model = _running_model(state_dir)
    if state is None or not _is_ours(state.pid, SERVER_MODULE):
        return Status(False, state, False, model)
    return Status(True, state, _answers(state.gateway_url, state.token), model)


def up(
    *,
    model: ModelChoice | None = None,
    python: str | None = None,
    report=print,
    state_dir: Path = STATE_DIR,
    client: str | None = None,
    account_concurrency: int | None = None,
    credentials: tuple[str, str] | None = None,
) -> tuple[StackState, bool]:
    """Start the local stage unless it runs; returns its state and whether it was started.

    `state_dir` holds stack.json, model.json, logs and unpacked code. `python`, the stage's
    runtime version, gets its runtime venv made now rather than at the first request.
    `client` is the Lambda runtime client its workers use (default: `runtime_client()`).
    `account_concurrency` is the emulated account's Lambda concurrency limit (default AWS's,
    local_stage.emulator.account). `credentials` is the stack's signing pair (default: a new
    random one; the stack file keeps it, 0600). A new emulator starts empty: the deploy side
    notices (its instance id changed) by itself."""
    model = model or ModelChoice()
    client = client or runtime_client()
    model_arguments = [] if model.bedrock_url else model.server_arguments()  # fail early
    current = status(state_dir)
    if current.running and current.healthy and current.state is not None:
        if model.served_by(current):
            return current.state, False
        report(
            "restarting the local stage with the model asked for (its emulator starts "
            "empty: deploy again afterwards)"
        )
    _stop_all(state_dir)
    if python is not None:
        ensure_runtime(python, RUNTIMES_DIR, report=report, client=client)
    log_dir = state_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    token = new_token()  # one per stack: both servers' /_local/ paths ask for it
    key_id, secret = credentials or new_credentials()  # and every AWS request's signature
    handed = {TOKEN_VARIABLE: token, CREDENTIALS_VARIABLE: f"{key_id}:{secret}"}
    model_url = model.bedrock_url
    if model_url is None:
        model_url = _start_model_server(model_arguments, state_dir, log_dir, report, handed).url
    try:
        stage_server = _start_stage_server(
            model_url, state_dir, log_dir, client, handed, account_concurrency
        )
        return stage_server, True
    except BaseException:
        _stop_all(state_dir)
        raise


def down(state_dir: Path = STATE_DIR) -> bool:
    """Stop what `up` started (and nothing else); True when something was running."""
    stopped = _stop_all(state_dir)
    return stopped


# -- processes ---------------------------------------------------------------------------------
def _start_model_server(
    arguments: list[str], state_dir: Path, log_dir: Path, report, handed: dict[str, str]
) -> ModelServerState:
    state_file = state_dir / MODEL_FILE_NAME
    state_file.unlink(missing_ok=True)
    command = [sys.executable, "-m", MODEL_MODULE, "--state-file", str(state_file), *arguments]
    state = _launch(
        command,
        log_dir / "model.log",
        "the model server",
        lambda: ModelServerState.read(state_file),
        lambda s: s.url,
        env={**os.environ, **handed},
    )
    report(f"model server ready: {state.model} ({state.backend}) at {state.url}")
    return state


def _start_stage_server(
    model_url: str,
    state_dir: Path,
    log_dir: Path,
    client: str,
    handed: dict[str, str],
    account_concurrency: int | None,
) -> StackState:
    stack_file = state_dir / STACK_FILE_NAME
    stack_file.unlink(missing_ok=True)
    command = [
        sys.executable,
        "-m",
        SERVER_MODULE,
        "--stack-file",
        str(stack_file),
        "--state-dir",
        str(state_dir),
        "--runtimes-dir",
        str(RUNTIMES_DIR),
        "--model-url",
        model_url,
    ]
    if account_concurrency is not None:
        command += ["--account-concurrency", str(account_concurrency)]
    return _launch(
        command,
        log_dir / "server.log",
        "the local stage server",
        lambda: StackState.read(stack_file),
        lambda s: s.gateway_url,
        env={**os.environ, CLIENT_VARIABLE: client, **handed},
    )


def _launch(
    command: list[str],
    log_path: Path,
    what: str,
    read: Callable[[], State | None],
    url: Callable[[State], str],
    env: dict[str, str] | None = None,
) -> State:
    """Start `command` in its own session, logging to `log_path`; its state once the state
    file it writes names it and its health URL answers."""
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
        )
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LocalStageError(f"{what} exited ({process.returncode}):\n{_tail(log_path)}")
        state = read()
        if state is not None and state.pid == process.pid and _answers(url(state), state.token):
            return state
        time.sleep(0.05)
    _stop_pid(process.pid)
    raise LocalStageError(
        f"{what} did not become ready in {READY_TIMEOUT_S:.0f} s:\n{_tail(log_path)}"
    )


def _stop_all(state_dir: Path) -> bool:
    stopped = False
    stack_file = state_dir / STACK_FILE_NAME
    state = StackState.read(stack_file)
    if state is not None and _is_ours(state.pid, SERVER_MODULE):
        _stop_pid(state.pid)
        stopped = True
    stack_file.unlink(missing_ok=True)
    model = _running_model(state_dir)
    if model is not None:
        _stop_pid(model.pid)
        stopped = True
    (state_dir / MODEL_FILE_NAME).unlink(missing_ok=True)
    return stopped


def _running_model(state_dir: Path) -> ModelServerState | None:
    model = running_model(state_dir)
    return model if model is not None and _is_ours(model.pid, MODEL_MODULE) else None


def _is_ours(pid: int, module: str) -> bool:
    """True when `pid` is alive and runs our module (a reused pid is never ours)."""
    try:
        process = psutil.Process(pid)
        return module in process.cmdline() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _stop_pid(pid: int, grace_s: float = 10.0) -> None:
    """SIGTERM `pid`, which stops what it started; after `grace_s`, SIGKILL it and every
    process it had started (runtime workers run in sessions of their own, so a process group
    would not reach them: psutil finds them through their parent, on Linux and macOS alike)."""
    try:
        process = psutil.Process(pid)
        family = [process, *process.children(recursive=True)]
        process.terminate()
    except psutil.Error:
        return
    _, alive = psutil.wait_procs([process], timeout=grace_s)
    if not alive:
        return
    for member in family:
        with contextlib.suppress(psutil.Error):
            member.kill()
    psutil.wait_procs(family, timeout=5)


def _answers(url: str, token: str) -> bool:
    try:
        with urllib.request.urlopen(health_request(url, token), timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
