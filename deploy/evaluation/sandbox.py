"""Run model-written code against a task's tests in a subprocess that can do little harm.

Layers, each where the machine has it (`confinement()` says which, and every eval report
prints it):

- **namespaces** (Linux, `unshare --net --pid --fork --mount-proc --map-root-user`): no network
  at all, and a PID namespace whose every process dies with its first one;
- **Landlock** (Linux 5.13+, TCP from 6.7, signals from 6.12; no user namespace needed): the
  task may read and run only its directory, the interpreter and the system's libraries, write
  only its directory, connect to and bind no TCP port, and signal nothing outside itself;
- **the warden** (warden.py, the task's parent, outside its confinement): resource limits
  (CPU, memory, file size, open files, processes), its directory's files and bytes bounded while
  it runs, and every process the task started killed when it ends (the warden is their
  subreaper, so a `setsid` child is one of them), on every exit path;
- an environment of its own (PATH and locale only: no credentials, no AWS_* or CODEGEN_*
  variables), a fresh temporary directory as its working directory and HOME, a wall-clock
  limit, and for Python the socket API refused before the code is imported.

JavaScript runs under Node.js in the same confinement, and with, where the node has it (20 and
later), its permission model.

Without Landlock (macOS, an old kernel) what holds is far less: the code can read any file the
user can read. `invoke eval` against a stage in AWS refuses to run it there unless told
`--unconfined` (see `Confinement.strong`).
"""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import psutil

from deploy.evaluation.warden import landlock_abi

WARDEN = Path(__file__).with_name("warden.py")

# Python: the socket API refused, then the tests run (importing the answer).
_BOOT = r"""
import socket, sys

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
# V8 reserves about 1 GiB of address space before it runs anything (its code range): the
# node's address-space limit is the memory limit on top of that; its heap, the memory limit.
_V8_RESERVE_BYTES = 2**30
# Processes a task may have at once (where the limit holds: see Confinement.process_limit).
TASK_PROCESSES = 32
# What a task's directory may hold, its own files included.
TASK_MAX_FILES = 1000
TASK_MAX_BYTES = 64 * 2**20
# Readable by every task: the dynamic loader's cache and the system's libraries.
_SYSTEM_PATHS = (
    "/lib",
    "/lib64",
    "/usr/lib",
    "/usr/lib64",
    "/etc/ld.so.cache",
    "/etc/localtime",
    "/usr/share/zoneinfo",
    "/dev/urandom",
    "/dev/random",
    "/dev/zero",
)


@dataclass(frozen=True)
class Limits:
    cpu_seconds: int = 5
    memory_bytes: int = 512 * 2**20
    wall_seconds: float = 15.0
    file_bytes: int = 16 * 2**20
    max_files: int = TASK_MAX_FILES
    max_bytes: int = TASK_MAX_BYTES


@dataclass(frozen=True)
class Outcome:
    passed: bool
    reason: str  # passed | failed | timeout | cpu-limit | memory | files | processes | error
    detail: str  # the last lines of what it wrote, to see why
    seconds: float


@dataclass(frozen=True)
class Confinement:
    """What the sandbox can do on this machine."""

    namespaces: bool  # network and PID namespaces (and a user namespace to make them)
    landlock: int  # the kernel's Landlock ABI version; 0 for none

    @property
    def files(self) -> bool:
        return self.landlock >= 1

    @property
    def network(self) -> bool:
        """TCP refused to every runtime (Python's socket patch aside)."""
        return self.namespaces or self.landlock >= 4

    pids_cgroup: bool = False  # a pids cgroup can be made (root, Linux)

    @property
    def process_limit(self) -> bool:
        """Whether a task's processes are bounded: RLIMIT_NPROC holds for any user but root
        (the kernel exempts root's uid, in a user namespace too); for root, a pids cgroup."""
        return os.geteuid() != 0 or self.pids_cgroup

    @property
    def strong(self) -> bool:
        """Enough to run model-written code on a machine that holds credentials."""
        return self.files and self.network

    def describe(self) -> str:
        parts = []
        if self.namespaces:
            parts.append("network and PID namespaces")
        if self.landlock:
            rights = ["files"] + (["TCP"] if self.landlock >= 4 else [])
            rights += ["signals"] if self.landlock >= 6 else []
            parts.append(f"Landlock ABI {self.landlock} ({', '.join(rights)})")
        else:
            parts.append("no Landlock: the code can read any file you can")
        if not self.network:
            parts.append("network refused only by Python's socket API")
        parts.append(
            ("a process limit" + (" (a pids cgroup)" if self.pids_cgroup else ""))
            if self.process_limit
            else "no process limit (root without a pids cgroup)"
        )
        return "; ".join(parts)


@cache
def confinement() -> Confinement:
    return Confinement(
        namespaces=bool(_namespace_prefix()),
        landlock=landlock_abi(),
        pids_cgroup=_pids_cgroup_parent() is not None,
    )


# Where a pids cgroup can be made: cgroup v1's pids hierarchy, or v2's root with pids enabled.
_CGROUP_PARENTS = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup"))


@cache
def _pids_cgroup_parent() -> Path | None:
    """A cgroup directory under which this process may make a pids cgroup (root on Linux;
    probed once by making and removing one), or None."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        return None
    for parent in _CGROUP_PARENTS:
        if not (parent / "cgroup.procs").exists():
            continue
        if parent.name != "pids":  # v2: only if the pids controller is handed down
            controls = parent / "cgroup.subtree_control"
            if not controls.exists() or "pids" not in controls.read_text().split():
                continue
        probe = parent / f"codegen-eval-probe-{os.getpid()}"
        try:
            probe.mkdir()
            ok = (probe / "pids.max").exists()
            probe.rmdir()
        except OSError:
            continue
        if ok:
            return parent
    return None


@contextlib.contextmanager
def _pids_cgroup() -> Iterator[str | None]:
    """A pids cgroup of its own for one task (pids.max = TASK_PROCESSES), or None where none
    can be made; on the way out, whatever is still in it is killed and it is removed."""
    parent = _pids_cgroup_parent()
    if parent is None:
        yield None
        return
    group = Path(tempfile.mkdtemp(prefix="codegen-eval-", dir=parent))
    try:
        (group / "pids.max").write_text(str(TASK_PROCESSES))
        yield str(group)
    finally:
        for _ in range(50):
            pids = [int(pid) for pid in (group / "cgroup.procs").read_text().split()]
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)
        with contextlib.suppress(OSError):
            group.rmdir()


def sandbox_description() -> str:
    """How the sandbox confines the code on this machine (said in the eval's report)."""
    return confinement().describe()


@cache
def _namespace_prefix() -> tuple[str, ...]:
    """`unshare` into new network and PID namespaces, if this machine lets an unprivileged
    user make them (a probe, once); else nothing."""
    unshare = shutil.which("unshare")
    if unshare is None or not sys.platform.startswith("linux"):
        return ()
    prefix = (
        unshare,
        "--net",
        "--pid",
        "--fork",
        "--kill-child",
        "--mount-proc",
        "--map-root-user",
    )
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


def _python_runtime() -> tuple[list[str], list[str], int]:
    """(command, paths it must read, its address-space limit on top of the memory limit):
    the interpreter itself (not a venv's link to it), isolated from the user's site."""
    executable = os.path.realpath(sys.executable)
    readable = [executable, os.path.realpath(sys.base_prefix)]
    return [executable, "-I", "-c", _BOOT], readable, 0


def _javascript_files(code: str, tests: str) -> dict[str, str]:
    """One CommonJS script (.cjs: never taken for a module, whichever the node): the answer,
    then the tests in a block of their own with node's strict `assert`, so the answer's
    names and the tests' never clash."""
    check = f'{code}\n;\n{{\nconst assert = require("node:assert/strict");\n{tests}}}\n'
    return {"check.cjs": check}


def _javascript_runtime() -> tuple[list[str], list[str], int]:
    node = shutil.which("node")
    if node is None:
        raise FileNotFoundError("node")
    executable = os.path.realpath(node)
    # its libraries, and OpenSSL's configuration, which node reads as it starts
    readable = [executable, str(Path(executable).parent.parent / "lib"), "/etc/ssl/openssl.cnf"]
    return [executable, "--no-warnings", *_node_permission_flags()], readable, _V8_RESERVE_BYTES


def _javascript_arguments(limits: Limits, scratch: str) -> list[str]:
    allow = (
        [f"--allow-fs-read={Path(scratch).resolve()}{os.sep}*"] if _node_permission_flags() else []
    )
    return [*allow, f"--max-old-space-size={limits.memory_bytes // 2**20}", "check.cjs"]


# language: (its files, its runtime, its arguments, whether its failure is said first: node
# names it, then its stack; Python's traceback ends with it)
_RUNTIMES = {
    "python": (_python_files, _python_runtime, lambda limits, scratch: [], False),
    "javascript": (_javascript_files, _javascript_runtime, _javascript_arguments, True),
}
# What a runtime writes when it runs out of memory.
_OUT_OF_MEMORY = ("MemoryError", "heap out of memory", "Fatal process OOM", "allocation failed")


def _process_limit() -> int:
    """RLIMIT_NPROC for a task: it counts every process of the user, so it is what the user
    runs now plus a task's (root is exempt: see Confinement.process_limit)."""
    uid = os.getuid()
    running = sum(
        1 for p in psutil.process_iter(["uids"]) if p.info["uids"] and p.info["uids"].real == uid
    )
    return running + TASK_PROCESSES


def run_tests(
    code: str, tests: str, limits: Limits = DEFAULT_LIMITS, language: str = "python"
) -> Outcome:
    """Run `tests` against `code` in the sandbox: Python tests import the code as
    `solution`; JavaScript tests follow it in one script (see _javascript_files)."""
    files, runtime, arguments, said_first = _RUNTIMES[language]
    command, readable, reserve = runtime()
    with (
        tempfile.TemporaryDirectory(prefix="codegen-eval-") as scratch,
        _pids_cgroup() as pids_cgroup,
    ):
        scratch = os.path.realpath(scratch)
        for name, text in files(code, tests).items():
            (Path(scratch) / name).write_text(text, encoding="utf-8")
        verdict_read, verdict_write = os.pipe()
        config = {
            "command": [*command, *arguments(limits, scratch)],
            "cwd": scratch,
            "env": {
                "PATH": os.defpath,
                "HOME": scratch,
                "TMPDIR": scratch,
                "LANG": "C.UTF-8",
                "PYTHONDONTWRITEBYTECODE": "1",
            },
            "limits": {
                "cpu_seconds": limits.cpu_seconds,
                "address_space_bytes": limits.memory_bytes + reserve,
                "file_bytes": limits.file_bytes,
                "max_files": limits.max_files,
                "max_bytes": limits.max_bytes,
            },
            "nproc": _process_limit(),
            "pids_cgroup": pids_cgroup,
            "landlock_abi": confinement().landlock,
            "readable": readable + [p for p in _SYSTEM_PATHS if os.path.exists(p)],
            "writable": [scratch, "/dev/null"],
            "verdict_fd": verdict_write,
        }
        started = time.monotonic()
        process = subprocess.Popen(
            [*_namespace_prefix(), sys.executable, "-I", str(WARDEN), json.dumps(config)],
            cwd=scratch,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(verdict_write,),
            start_new_session=True,
        )
        os.close(verdict_write)
        with os.fdopen(verdict_read) as verdict_pipe:
            try:
                output, _ = process.communicate(timeout=limits.wall_seconds)
            except subprocess.TimeoutExpired:
                _kill_tree(process)
                output, _ = process.communicate()
                return Outcome(False, "timeout", _tail(output), time.monotonic() - started)
            finally:
                _kill_tree(process)  # on every path: nothing of the task's outlives it
            seconds = time.monotonic() - started
            verdict = _verdict(verdict_pipe.read(), process.returncode)
    whole = (output or b"").decode("utf-8", "replace").strip()
    lines = whole.splitlines()
    text = "\n".join(lines[:8] if said_first else lines[-6:])
    returncode = verdict["returncode"]
    if verdict["limit"] in ("files", "processes"):
        return Outcome(False, verdict["limit"], f"{verdict['detail']}\n{text}".strip(), seconds)
    if verdict["limit"] is not None:
        return Outcome(False, "error", verdict["detail"], seconds)
    if returncode == 0:
        return Outcome(True, "passed", text, seconds)
    if returncode in (-signal.SIGXCPU, -signal.SIGKILL) and "Traceback" not in whole:
        return Outcome(False, "cpu-limit", text, seconds)
    if any(words in whole for words in _OUT_OF_MEMORY):
        return Outcome(False, "memory", text, seconds)
    if "AssertionError" in whole:
        return Outcome(False, "failed", text, seconds)
    return Outcome(False, "error", text, seconds)


def _verdict(written: str, warden_returncode: int | None) -> dict:
    """The warden's verdict; a warden that wrote none (it was killed) is the sandbox's error."""
    try:
        return json.loads(written)
    except ValueError:
        return {
            "returncode": None,
            "limit": "confinement",
            "detail": f"the sandbox's warden ended without a verdict (exit {warden_returncode})",
        }


def _kill_tree(process: subprocess.Popen) -> None:
    """Kill the warden and everything below it, the bottom first: killed from the top, a
    process's children would be left to init."""
    with contextlib.suppress(psutil.Error):
        top = psutil.Process(process.pid)
        for _ in range(50):
            below = top.children(recursive=True)
            if not below:
                break
            for child in below:
                with contextlib.suppress(psutil.Error):
                    child.kill()
            psutil.wait_procs(below, timeout=2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def _tail(output: bytes | None, lines: int = 6) -> str:
    text = (output or b"").decode("utf-8", "replace").strip()
    return "\n".join(text.splitlines()[-lines:])
