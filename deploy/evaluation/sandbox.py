"""Run model-written code against a task's tests in a subprocess that can do little harm.

What it does: a fresh temporary directory as the working directory and HOME; an environment
of its own (PATH and locale only: no credentials, no AWS_* or CODEGEN_* variables); limits on
CPU time, memory (address space, where the OS enforces it: Linux), file size and open files;
a wall-clock limit, after which the whole process group is killed; and no network: a network
namespace of its own where the OS allows one (Linux `unshare --net --map-root-user`), and in
every case Python's socket API refused before the code is imported.

What it does not stop (it runs model-written code on this machine): reading any file the user
can read, writing under the temporary directory and anywhere else the user can write, and
code that gets past Python's socket API (ctypes, a subprocess) where no network namespace
could be made. Do not run it on a machine that holds secrets in readable files you would not
show the model's author.
"""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_BOOT = r"""
import resource, socket, sys
cpu, memory, files = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
for limit, value in ((resource.RLIMIT_CPU, cpu), (resource.RLIMIT_FSIZE, files),
                     (resource.RLIMIT_NOFILE, 64), (resource.RLIMIT_CORE, 0)):
    resource.setrlimit(limit, (value, value))
try:
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
except (ValueError, OSError):  # macOS does not enforce an address-space limit
    pass

def _refused(*args, **kwargs):
    raise PermissionError("the sandbox refuses network access")

for name in ("connect", "connect_ex", "bind", "sendto", "sendmsg"):
    setattr(socket.socket, name, _refused)
socket.create_connection = _refused
socket.getaddrinfo = _refused
sys.path.insert(0, ".")
sys.argv = ["check.py"]
import runpy
runpy.run_path("check.py", run_name="__main__")
"""


@dataclass(frozen=True)
class Limits:
    cpu_seconds: int = 5
    memory_bytes: int = 512 * 2**20
    wall_seconds: float = 15.0
    file_bytes: int = 16 * 2**20


@dataclass(frozen=True)
class Outcome:
    passed: bool
    reason: str  # passed | failed | timeout | cpu-limit | memory | error
    detail: str  # the last lines of what it wrote, to see why
    seconds: float


def network_isolation() -> str:
    """How the sandbox refuses the network on this machine (said in the eval's report)."""
    return "a network namespace" if _namespace_prefix() else "Python's socket API only"


@cache
def _namespace_prefix() -> tuple[str, ...]:
    """`unshare --net --map-root-user`, if this machine lets an unprivileged user make a
    network namespace (a probe, once); else nothing."""
    unshare = shutil.which("unshare")
    if unshare is None or not sys.platform.startswith("linux"):
        return ()
    prefix = (unshare, "--net", "--map-root-user")
    try:
        probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return ()
    return prefix if probe.returncode == 0 else ()


DEFAULT_LIMITS = Limits()


def run_tests(code: str, tests: str, limits: Limits = DEFAULT_LIMITS) -> Outcome:
    """Run `tests` (Python that imports the code as `solution`) in the sandbox."""
    import time

    with tempfile.TemporaryDirectory(prefix="codegen-eval-") as scratch:
        root = Path(scratch)
        (root / "solution.py").write_text(code, encoding="utf-8")
        (root / "check.py").write_text("from solution import *\n\n" + tests, encoding="utf-8")
        command = [
            *_namespace_prefix(),
            sys.executable,
            "-I",
            "-c",
            _BOOT,
            str(limits.cpu_seconds),
            str(limits.memory_bytes),
            str(limits.file_bytes),
        ]
        environment = {
            "PATH": os.defpath,
            "HOME": scratch,
            "TMPDIR": scratch,
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        started = time.monotonic()
        process = subprocess.Popen(
            command,
            cwd=scratch,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killed whole at the wall limit
        )
        try:
            output, _ = process.communicate(timeout=limits.wall_seconds)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            output, _ = process.communicate()
            return Outcome(False, "timeout", _tail(output), time.monotonic() - started)
        seconds = time.monotonic() - started
    text = _tail(output)
    if process.returncode == 0:
        return Outcome(True, "passed", text, seconds)
    if process.returncode in (-signal.SIGXCPU, -signal.SIGKILL) and "Traceback" not in text:
        return Outcome(False, "cpu-limit", text, seconds)
    if "MemoryError" in text:
        return Outcome(False, "memory", text, seconds)
    if "AssertionError" in text:
        return Outcome(False, "failed", text, seconds)
    return Outcome(False, "error", text, seconds)


def _kill_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def _tail(output: bytes | None, lines: int = 6) -> str:
    text = (output or b"").decode("utf-8", "replace").strip()
    return "\n".join(text.splitlines()[-lines:])
