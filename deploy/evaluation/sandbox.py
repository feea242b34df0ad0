"""Run model-written code against a task's tests in a subprocess that can do little harm.

What it does: a fresh temporary directory as the working directory and HOME; an environment
of its own (PATH and locale only: no credentials, no AWS_* or CODEGEN_* variables); limits on
CPU time, memory (address space, where the OS enforces it: Linux), file size and open files;
a wall-clock limit, after which the whole process group is killed; and no network: a network
namespace of its own where the OS allows one (Linux `unshare --net --map-root-user`), and for
Python in every case its socket API refused before the code is imported.

JavaScript runs under Node.js with, where the node has it (20 and later), its permission
model: it may read only its temporary directory, and may not write, start processes or
workers, or load native addons; V8's heap is capped at the memory limit.

What it does not stop (it runs model-written code on this machine): for Python, reading any
file the user can read, writing under the temporary directory and anywhere else the user can
write, and code that gets past Python's socket API (ctypes, a subprocess) where no network
namespace could be made; for JavaScript, the network where no namespace could be made. Do
not run it on a machine that holds secrets in readable files you would not show the model's
author.
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

# Both runtimes' first lines: the limits, from the command line, set on the process itself.
_LIMITS = r"""
import os, resource, socket, sys
cpu, memory, files = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
for limit, value in ((resource.RLIMIT_CPU, cpu), (resource.RLIMIT_FSIZE, files),
                     (resource.RLIMIT_NOFILE, 64), (resource.RLIMIT_CORE, 0)):
    resource.setrlimit(limit, (value, value))
try:
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
except (ValueError, OSError):  # macOS does not enforce an address-space limit
    pass
"""
# Python: the socket API refused, then the tests run (importing the answer).
_BOOT = (
    _LIMITS
    + r"""
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
)
# Any other runtime: the process becomes the one named after the limits (a node).
_EXEC_BOOT = _LIMITS + "os.execv(sys.argv[4], sys.argv[4:])\n"
# V8 reserves about 1 GiB of address space before it runs anything (its code range): the
# node's address-space limit is the memory limit on top of that; its heap, the memory limit.
_V8_RESERVE_BYTES = 2**30


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


def runtime_missing(language: str) -> str | None:
    """Why this machine cannot run a task in `language`'s tests, or None when it can."""
    if language == "python":
        return None
    if language == "javascript":
        return None if shutil.which("node") else "no node on PATH (install Node.js)"
    return f"the sandbox has no runtime for {language}"


@cache
def _node_permission_flags() -> tuple[str, ...]:
    """The node's permission-model switch (`--permission` from Node 22, earlier
    `--experimental-permission`), probed once; none on a node without one (before 20)."""
    node = shutil.which("node")
    for flag in ("--permission", "--experimental-permission"):
        try:
            probe = subprocess.run(
                [node or "node", "--no-warnings", flag, "-e", "0"],
                capture_output=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return ()
        if probe.returncode == 0:
            return (flag,)
    return ()


def javascript_permissions() -> str:
    """What the node's permission model refuses here (said in the eval's report)."""
    flags = _node_permission_flags()
    return (
        "reading outside its directory, writing, processes, workers and addons"
        if flags
        else "nothing (this node has no permission model)"
    )


def _python_files(code: str, tests: str) -> dict[str, str]:
    return {"solution.py": code, "check.py": "from solution import *\n\n" + tests}


def _python_command(limits: Limits, scratch: str) -> list[str]:
    return [
        sys.executable,
        "-I",
        "-c",
        _BOOT,
        str(limits.cpu_seconds),
        str(limits.memory_bytes),
        str(limits.file_bytes),
    ]


def _javascript_files(code: str, tests: str) -> dict[str, str]:
    """One CommonJS script (.cjs: never taken for a module, whichever the node): the answer,
    then the tests in a block of their own with node's strict `assert`, so the answer's
    names and the tests' never clash."""
    check = f'{code}\n;\n{{\nconst assert = require("node:assert/strict");\n{tests}}}\n'
    return {"check.cjs": check}


def _javascript_command(limits: Limits, scratch: str) -> list[str]:
    node = shutil.which("node")
    if node is None:
        raise FileNotFoundError("node")
    permission = _node_permission_flags()
    allow = [f"--allow-fs-read={Path(scratch).resolve()}{os.sep}*"] if permission else []
    return [
        sys.executable,
        "-I",
        "-c",
        _EXEC_BOOT,
        str(limits.cpu_seconds),
        str(limits.memory_bytes + _V8_RESERVE_BYTES),
        str(limits.file_bytes),
        node,
        "--no-warnings",
        *permission,
        *allow,
        f"--max-old-space-size={limits.memory_bytes // 2**20}",
        "check.cjs",
    ]


# language: (its files, its command, whether its failure is said first: node names it, then
# its stack; Python's traceback ends with it)
_RUNTIMES = {
    "python": (_python_files, _python_command, False),
    "javascript": (_javascript_files, _javascript_command, True),
}
# What a runtime writes when it runs out of memory.
_OUT_OF_MEMORY = ("MemoryError", "heap out of memory", "Fatal process OOM", "allocation failed")


def run_tests(
    code: str, tests: str, limits: Limits = DEFAULT_LIMITS, language: str = "python"
) -> Outcome:
    """Run `tests` against `code` in the sandbox: Python tests import the code as
    `solution`; JavaScript tests follow it in one script (see _javascript_files)."""
    import time

    files, command_for, said_first = _RUNTIMES[language]
    with tempfile.TemporaryDirectory(prefix="codegen-eval-") as scratch:
        root = Path(scratch)
        for name, text in files(code, tests).items():
            (root / name).write_text(text, encoding="utf-8")
        command = [*_namespace_prefix(), *command_for(limits, scratch)]
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
    whole = (output or b"").decode("utf-8", "replace").strip()
    lines = whole.splitlines()
    text = "\n".join(lines[:8] if said_first else lines[-6:])
    if process.returncode == 0:
        return Outcome(True, "passed", text, seconds)
    if process.returncode in (-signal.SIGXCPU, -signal.SIGKILL) and "Traceback" not in whole:
        return Outcome(False, "cpu-limit", text, seconds)
    if any(words in whole for words in _OUT_OF_MEMORY):
        return Outcome(False, "memory", text, seconds)
    if "AssertionError" in whole:
        return Outcome(False, "failed", text, seconds)
    return Outcome(False, "error", text, seconds)


def _kill_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def _tail(output: bytes | None, lines: int = 6) -> str:
    text = (output or b"").decode("utf-8", "replace").strip()
    return "\n".join(text.splitlines()[-lines:])
