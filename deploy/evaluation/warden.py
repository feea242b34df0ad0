"""The eval sandbox's warden: it starts one task's tests confined, watches what they write, and
leaves no process of theirs behind.

Run as a script (`python -I warden.py CONFIG_JSON`), inside the namespaces sandbox.py makes
where the machine allows them. It is the task's parent and stays outside the task's
confinement, so that the task can neither signal it nor outlive it:

- the task gets its resource limits (CPU, memory, file size, open files, processes) and, where
  the kernel has Landlock (Linux 5.13+; TCP from 6.7), a Landlock domain: it may read and run
  only the paths it is given (its directory, the interpreter and its libraries), write only its
  directory, make no TCP connection and bind no TCP port, and signal no process outside;
- the warden is the child subreaper (or the PID namespace's first process), so a child the
  task detaches (setsid, a double fork) is still the warden's to kill when the task ends;
- the task's directory is walked while it runs: more files or bytes than allowed and the task
  is killed.

Its verdict (JSON) is written to the file descriptor the config names. Standard library and
psutil only: it runs under `python -I`, with no access to the project's packages.
"""

import contextlib
import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

_SYS_LANDLOCK_CREATE_RULESET = 444  # the same number on every architecture (since 5.13)
_SYS_LANDLOCK_ADD_RULE = 445
_SYS_LANDLOCK_RESTRICT_SELF = 446
_LANDLOCK_CREATE_RULESET_VERSION = 1
_LANDLOCK_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_CHILD_SUBREAPER = 36

# Filesystem rights, by the ABI version that introduced them.
_EXECUTE, _WRITE_FILE, _READ_FILE, _READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_FS_RIGHTS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}
_FILE_ONLY_RIGHTS = _EXECUTE | _WRITE_FILE | _READ_FILE | (1 << 14) | (1 << 15)
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1  # ABI 4
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1 << 0, 1 << 1  # ABI 6

WATCH_INTERVAL_S = 0.05


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1  # the kernel's struct is packed: 12 bytes
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def landlock_abi() -> int:
    """The kernel's Landlock ABI version; 0 where there is none (not Linux, too old a kernel,
    or Landlock not enabled at boot)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        libc = _libc()
        libc.syscall.restype = ctypes.c_long
        version = libc.syscall(
            _SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), _LANDLOCK_CREATE_RULESET_VERSION
        )
    except (OSError, AttributeError):
        return 0
    return max(int(version), 0)


def _fs_rights(abi: int) -> int:
    return next(
        rights
        for version, rights in sorted(_FS_RIGHTS_BY_ABI.items(), reverse=True)
        if abi >= version
    )


def _landlock(abi: int, readable: list[str], writable: list[str]) -> None:
    """Confine this process (and what it runs) to `readable` (read and execute) and `writable`
    (everything), with no TCP and no signals or abstract sockets outside, as far as `abi` can."""
    libc = _libc()
    libc.syscall.restype = ctypes.c_long
    handled = _fs_rights(abi)
    attr = _RulesetAttr(
        handled_access_fs=handled,
        handled_access_net=(_NET_BIND_TCP | _NET_CONNECT_TCP) if abi >= 4 else 0,
        scoped=(_SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL) if abi >= 6 else 0,
    )
    size = ctypes.sizeof(attr) if abi >= 6 else 16 if abi >= 4 else 8
    ruleset = libc.syscall(
        _SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), 0
    )
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset")
    read_rights = _EXECUTE | _READ_FILE | _READ_DIR
    try:
        for paths, rights in ((readable, read_rights), (writable, handled)):
            for path in paths:
                try:
                    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                except OSError:
                    continue  # a path this machine does not have
                try:
                    allowed = rights if os.path.isdir(path) else rights & _FILE_ONLY_RIGHTS
                    rule = _PathBeneathAttr(allowed_access=allowed, parent_fd=fd)
                    if (
                        libc.syscall(
                            _SYS_LANDLOCK_ADD_RULE,
                            ruleset,
                            _LANDLOCK_RULE_PATH_BENEATH,
                            ctypes.byref(rule),
                            0,
                        )
                        < 0
                    ):
                        raise OSError(ctypes.get_errno(), f"landlock_add_rule {path}")
                finally:
                    os.close(fd)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
        if libc.syscall(_SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0) < 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self")
    finally:
        os.close(ruleset)


def _confine(config: dict) -> None:
    """In the task's process, between fork and exec: its limits, then its Landlock domain."""
    if config.get("pids_cgroup"):  # "0": the writing process, in whichever PID namespace
        with open(os.path.join(config["pids_cgroup"], "cgroup.procs"), "w") as procs:
            procs.write("0")
    limits = config["limits"]
    for limit, value in (
        (resource.RLIMIT_CPU, limits["cpu_seconds"]),
        (resource.RLIMIT_FSIZE, limits["file_bytes"]),
        (resource.RLIMIT_NOFILE, 64),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_NPROC, config["nproc"]),
    ):
        resource.setrlimit(limit, (value, value))
    with contextlib.suppress(ValueError, OSError):  # macOS enforces no address-space limit
        resource.setrlimit(resource.RLIMIT_AS, (limits["address_space_bytes"],) * 2)
    if config["landlock_abi"]:
        own = [f"/proc/{os.getpid()}"]  # its own /proc entry (Node reads it); no other's
        _landlock(config["landlock_abi"], config["readable"] + own, config["writable"])


def _usage(directory: Path, max_files: int) -> tuple[int, int]:
    """(entries, bytes) under `directory`, counting stopped a little past `max_files`."""
    entries = size = 0
    stack = [directory]
    while stack and entries <= max_files:
        try:
            with os.scandir(stack.pop()) as listing:
                for entry in listing:
                    entries += 1
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(Path(entry.path))
                    else:
                        size += entry.stat(follow_symlinks=False).st_size
        except OSError:
            continue  # removed while walked
    return entries, size


def _kill_descendants() -> int:
    """Kill every process below this one (a detached one included: this process is their
    subreaper); how many there were."""
    me = psutil.Process()
    seen: set[int] = set()
    for _ in range(50):  # a process forking as it is killed: again, until none is left
        children = me.children(recursive=True)
        if not children:
            break
        for child in children:
            seen.add(child.pid)
            with contextlib.suppress(psutil.Error):
                child.kill()
        psutil.wait_procs(children, timeout=2)
    while True:  # reap what the kill left as zombies
        try:
            if os.waitpid(-1, os.WNOHANG) == (0, 0):
                break
        except ChildProcessError:
            break
    return len(seen)


def run(config: dict) -> dict:
    """Run the task as configured; its verdict."""
    if sys.platform.startswith("linux"):
        _libc().prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    directory = Path(config["cwd"])
    limits = config["limits"]
    over: list[str] = []
    try:
        task = subprocess.Popen(
            config["command"],
            cwd=directory,
            env=config["env"],
            stdin=subprocess.DEVNULL,
            preexec_fn=lambda: _confine(config),  # the watcher starts after
        )
    except (OSError, subprocess.SubprocessError) as error:
        return {
            "returncode": None,
            "limit": "confinement",
            "detail": f"the task could not be confined: {error}",
        }

    def watch() -> None:
        while task.poll() is None:
            entries, size = _usage(directory, limits["max_files"])
            if entries > limits["max_files"] or size > limits["max_bytes"]:
                over.append(
                    f"it wrote more than {limits['max_files']} files or {limits['max_bytes']} "
                    f"bytes in its directory (seen: {entries} entries, {size} bytes)"
                )
                task.kill()
                return
            time.sleep(WATCH_INTERVAL_S)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    returncode = task.wait()
    watcher.join()
    left = _kill_descendants()
    if over:
        return {"returncode": returncode, "limit": "files", "detail": over[0]}
    if left:
        return {
            "returncode": returncode,
            "limit": "processes",
            "detail": f"it left {left} process(es) running when it ended; they were killed",
        }
    return {"returncode": returncode, "limit": None, "detail": ""}


def main() -> None:
    config = json.loads(sys.argv[1])
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    verdict = run(config)
    with os.fdopen(config["verdict_fd"], "w") as out:
        json.dump(verdict, out)


if __name__ == "__main__":
    main()
