"""Start, stop and inspect the local stage as background processes (`invoke local.*`)."""

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from deploy.stages import LAMBDA_PYTHON
from deploy.workdir import WORK_ROOT, reset_state
from local_stage.interpreter import ensure_runtime
from local_stage.state import RUNTIMES_DIR, STACK_FILE, STATE_DIR, StackState

SERVER_MODULE = "local_stage.server"
READY_TIMEOUT_S = 60.0


class LocalStageError(Exception):
    """The local stage could not start or stop; the message says why."""


@dataclass(frozen=True)
class Status:
    running: bool
    state: StackState | None
    healthy: bool


def status(state_dir: Path = STATE_DIR) -> Status:
    state = StackState.read(state_dir / STACK_FILE.name)
    if state is None or not _is_ours(state.pid, SERVER_MODULE):
        return Status(False, state, False)
    return Status(True, state, _healthy(state.gateway_url))


def up(*, model_url: str | None = None, report=print, state_dir: Path = STATE_DIR,
       terraform_root: Path = WORK_ROOT) -> tuple[StackState, bool]:  # fmt: skip
    """Start the local stage unless it runs; returns its state and whether it was started.

    `state_dir` holds stack.json, logs and unpacked code; `terraform_root` the stage working
    directories whose `local` state is reset (tests pass their own to stay apart)."""
    stack_file = state_dir / STACK_FILE.name
    current = status(state_dir)
    if current.running and current.healthy and current.state is not None:
        return current.state, False
    if current.running and current.state is not None:
        _stop_pid(current.state.pid)
    stack_file.unlink(missing_ok=True)
    ensure_runtime(LAMBDA_PYTHON, RUNTIMES_DIR, report=report)
    reset_state("local", terraform_root)  # a new emulator starts empty
    log_dir = state_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / "server.log"
    command = [sys.executable, "-m", SERVER_MODULE, "--stack-file", str(stack_file),
               "--state-dir", str(state_dir), "--runtimes-dir", str(RUNTIMES_DIR)]  # fmt: skip
    if model_url:
        command += ["--model-url", model_url]
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LocalStageError(f"the local stage server exited ({process.returncode}):\n"
                                  f"{_tail(log_path)}")  # fmt: skip
        state = StackState.read(stack_file)
        if state is not None and state.pid == process.pid and _healthy(state.gateway_url):
            return state, True
        time.sleep(0.05)
    _stop_pid(process.pid)
    raise LocalStageError(f"the local stage did not become ready in {READY_TIMEOUT_S:.0f} s:\n"
                          f"{_tail(log_path)}")  # fmt: skip


def down(state_dir: Path = STATE_DIR, terraform_root: Path = WORK_ROOT) -> bool:
    """Stop what `up` started (and nothing else); True when something was running."""
    stack_file = state_dir / STACK_FILE.name
    state = StackState.read(stack_file)
    stopped = False
    if state is not None:
        if _is_ours(state.pid, SERVER_MODULE):
            _stop_pid(state.pid)
            stopped = True
        if state.model_pid and _is_ours(state.model_pid, "local_stage.model"):
            _stop_pid(state.model_pid)
            stopped = True
    stack_file.unlink(missing_ok=True)
    reset_state("local", terraform_root)
    return stopped


def _is_ours(pid: int, module: str) -> bool:
    """True when `pid` is alive and runs our module (a reused pid is never ours)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return module.encode() in cmdline


def _stop_pid(pid: int, grace_s: float = 10.0) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists() or _zombie(pid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except (OSError, IndexError):
        return True


def _healthy(gateway_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{gateway_url}/_local/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
