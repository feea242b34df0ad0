"""How `invoke local.status` and `local.down` find and stop the stage's processes: through
psutil, the same calls on Linux and macOS (nothing here reads /proc)."""

import subprocess
import sys
import textwrap
import time

import psutil
import pytest

from local_stage import supervisor

MODULE = "local_stage.server"  # what the stage server's command line names


def spawn(code: str, *arguments: str) -> subprocess.Popen:
    """The process, once it runs its own command line: just after the fork it still shows
    its parent's (pytest's), which a busy machine can leave visible for a while."""
    command = [sys.executable, "-c", textwrap.dedent(code), *arguments]
    process = subprocess.Popen(command, start_new_session=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if psutil.Process(process.pid).cmdline()[1:2] == ["-c"]:
                break
        except psutil.Error:
            pass
        time.sleep(0.01)
    return process


@pytest.fixture
def sleeper():
    process = spawn("import time; time.sleep(60)", MODULE)
    yield process
    process.kill()
    process.wait()


def test_a_process_running_our_module_is_ours(sleeper):
    assert supervisor._is_ours(sleeper.pid, MODULE)
    assert not supervisor._is_ours(sleeper.pid, "local_stage.model.server")


def test_a_pid_that_ran_something_else_or_ended_is_not_ours():
    other = spawn("import time; time.sleep(60)")
    try:
        assert not supervisor._is_ours(other.pid, MODULE)  # a reused pid
    finally:
        other.kill()
        other.wait()
    assert not supervisor._is_ours(other.pid, MODULE)  # gone


def test_an_exited_but_unreaped_process_is_not_ours():
    process = spawn("pass", MODULE)
    while psutil.Process(process.pid).status() != psutil.STATUS_ZOMBIE:
        time.sleep(0.01)
    assert not supervisor._is_ours(process.pid, MODULE)
    process.wait()


def test_stop_ends_a_process_that_obeys_sigterm_at_once(sleeper):
    started = time.monotonic()
    supervisor._stop_pid(sleeper.pid, grace_s=10)
    assert time.monotonic() - started < 5
    assert sleeper.wait(timeout=1) is not None


def test_stop_kills_a_process_that_ignores_sigterm_and_every_process_it_started():
    stubborn = spawn(
        """
        import signal, subprocess, sys, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        # A child in a session of its own, as the runtime workers are.
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                                 start_new_session=True)
        print(child.pid, flush=True)
        time.sleep(60)
        """,
        MODULE,
    )
    parent = psutil.Process(stubborn.pid)
    while not parent.children():
        time.sleep(0.01)
    child = parent.children()[0]
    supervisor._stop_pid(stubborn.pid, grace_s=0.5)
    assert stubborn.wait(timeout=5) is not None
    assert not child.is_running() or child.status() == psutil.STATUS_ZOMBIE
