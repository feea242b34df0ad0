"""The eval sandbox: it runs model-written code, so each thing such code may try is tried
here, in Python and in JavaScript, and must be stopped and scored failed: in every mode this
machine offers (with namespaces, and with Landlock alone, as on a machine that allows no user
namespace)."""

import shutil
import socket
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psutil
import pytest

from deploy.evaluation import sandbox
from deploy.evaluation.sandbox import (
    Confinement,
    Limits,
    Outcome,
    _node_permission_flags,
    run_tests,
)
from deploy.evaluation.suite import TASKS
from tests.system_packages import require, require_node

QUICK = Limits(cpu_seconds=2, memory_bytes=256 * 2**20, wall_seconds=4.0)
# Where the limit under test is not the clock: a loaded machine only takes longer to reach it
# (ci33 saw a sandboxed Python reach its 1,000th file after the 4 s clock of QUICK).
ROOMY = Limits(cpu_seconds=10, memory_bytes=256 * 2**20, wall_seconds=30.0)


@contextmanager
def listener() -> Iterator[tuple[int, list[bool]]]:
    """A port on 127.0.0.1 and what reached it: `reached` holds True when the block ends if a
    connection was made. The code and all its descendants are gone by then (the warden kills
    them before run_tests returns), and a loopback connection sits in the accept queue as soon
    as it is made, so half a second is ample to see one."""
    server = socket.create_server(("127.0.0.1", 0))
    reached: list[bool] = []
    try:
        yield server.getsockname()[1], reached
        server.settimeout(0.5)
        try:
            server.accept()[0].close()
            reached.append(True)
        except OSError:
            pass
    finally:
        server.close()


# -- JavaScript's sandbox: the same stops as Python's, and node's permission model ---------
def js(code: str, tests: str = "") -> Outcome:
    require_node()
    return run_tests(code, tests, QUICK, "javascript")


def test_a_wrong_javascript_answer_fails_and_says_why():
    outcome = js("function add(a, b) {\n  return a - b;\n}", "assert.equal(add(2, 3), 5);")
    assert not outcome.passed and outcome.reason == "failed"
    assert "-1 !== 5" in outcome.detail  # node's own words, which come first


def test_javascript_that_loops_or_allocates_too_much_is_stopped():
    looped = js("while (true) {}")
    assert looped.reason in ("cpu-limit", "timeout") and looped.seconds < QUICK.wall_seconds + 2
    grew = js("const kept = [];\nwhile (true) kept.push(new Array(1e6).fill(1));")
    assert not grew.passed and grew.reason == "memory"


def test_javascript_sees_none_of_the_callers_environment(monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-for-the-model")
    outcome = js(
        "const leaked = Object.keys(process.env).filter((k) => k.includes('SECRET'));",
        "assert.ok(leaked.length > 0, 'nothing to read');",
    )
    assert not outcome.passed and "nothing to read" in outcome.detail


def test_javascript_may_read_only_its_own_directory_and_start_nothing():
    require_node()
    if not _node_permission_flags():
        pytest.skip("this node has no permission model: needs Node.js 20 or later")

    def denied(outcome: Outcome) -> bool:  # node's words for it, in 20 and in later ones
        return not outcome.passed and any(
            words in outcome.detail for words in ("ERR_ACCESS_DENIED", "has been restricted")
        )

    assert denied(js("require('fs').readFileSync('/etc/hosts');"))
    assert js("require('fs').readFileSync(__filename);").passed  # its own directory it may
    assert denied(js("require('child_process').execSync('true');"))
    assert denied(js("require('fs').writeFileSync('out.txt', 'x');"))


def test_a_wrong_answer_fails_its_tests():
    (add,) = [task for task in TASKS if task.name == "add"]
    outcome = run_tests("def add(a, b):\n    return a - b\n", add.tests, QUICK)
    assert not outcome.passed and outcome.reason == "failed"


def test_code_that_loops_for_ever_is_stopped_and_failed():
    outcome = run_tests("while True:\n    pass\n", "", QUICK)
    assert not outcome.passed and outcome.reason in ("cpu-limit", "timeout")
    assert outcome.seconds < QUICK.wall_seconds + 2


def test_code_that_sleeps_past_the_wall_clock_is_killed():
    outcome = run_tests("import time\ntime.sleep(60)\n", "", QUICK)
    assert not outcome.passed and outcome.reason == "timeout"


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="only Linux enforces an address-space limit"
)
def test_code_that_allocates_too_much_is_stopped_and_failed():
    outcome = run_tests("block = bytearray(2 * 1024**3)\n", "", QUICK)
    assert not outcome.passed and outcome.reason == "memory"


def test_code_sees_none_of_the_callers_environment(monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-for-the-model")
    monkeypatch.setenv("CODEGEN_TEST_SECRET", "nor-this")
    code = "import os\nleaked = {k: v for k, v in os.environ.items() if 'SECRET' in k}\n"
    outcome = run_tests(code, "assert leaked, 'nothing to read'\n", QUICK)
    assert not outcome.passed and "nothing to read" in outcome.detail


def test_code_cannot_reach_the_network():
    with listener() as (port, reached):
        code = (
            f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2).close()\n"
        )
        outcome = run_tests(code, "", QUICK)
    assert not outcome.passed and reached == []


# -- Confinement: what model-written code tries, in each mode ------------------------------
MODES = ["namespaces", "landlock-only"]


@pytest.fixture(params=MODES)
def mode(request, monkeypatch) -> Confinement:
    """The sandbox as this machine makes it, or with Landlock alone (no user namespace)."""
    actual = sandbox.confinement()
    require(None if actual.landlock else "this kernel has no Landlock", "a Linux 5.13+ kernel")
    if request.param == "namespaces":
        if not actual.namespaces:
            pytest.skip("this machine lets no user make a namespace: the Landlock-only mode ran")
        return actual
    monkeypatch.setattr(sandbox, "_namespace_prefix", lambda: ())
    alone = Confinement(namespaces=False, landlock=actual.landlock, pids_cgroup=actual.pids_cgroup)
    monkeypatch.setattr(sandbox, "confinement", lambda: alone)
    return alone


def run(language: str, code: str, tests: str = "", limits: Limits = QUICK) -> Outcome:
    if language == "javascript":
        require_node()
    return run_tests(code, tests, limits, language)


def survivors(token: str) -> list[psutil.Process]:
    """Processes whose command line holds `token` (a task's children, if any outlived it)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if any(token in part for part in process.info["cmdline"] or ()):
            found.append(process)
    return found


@pytest.fixture
def credentials_file(tmp_path) -> str:
    """A credentials file the user can read, as ~/.aws/credentials is."""
    path = tmp_path / ".aws" / "credentials"
    path.parent.mkdir()
    path.write_text("[default]\naws_secret_access_key = not-for-the-model\n")
    return str(path)


READ_FILE = {
    "python": "print(open({path!r}).read())\n",
    "javascript": "console.log(require('fs').readFileSync({path!r}, 'utf8'));",
}


@pytest.mark.parametrize("language", ["python", "javascript"])
def test_code_cannot_read_the_users_credentials(mode, language, credentials_file):
    outcome = run(language, READ_FILE[language].format(path=credentials_file))
    assert not outcome.passed and "not-for-the-model" not in outcome.detail


RAW_CONNECT = {
    # past Python's socket patch: the C module itself
    "python": (
        "import _socket\ns = _socket.socket()\ns.settimeout(2)\ns.connect(('127.0.0.1', {port}))\n"
    ),
    "javascript": (
        "const s = require('net').connect({port}, '127.0.0.1', () => process.exit(0));\n"
        "s.on('error', () => process.exit(3));\nsetTimeout(() => process.exit(4), 2000);"
    ),
}


@pytest.mark.parametrize("language", ["python", "javascript"])
def test_code_cannot_connect_even_past_pythons_socket_api(mode, language):
    with listener() as (port, reached):
        outcome = run(language, RAW_CONNECT[language].format(port=port))
    assert not outcome.passed and reached == []


CURL = {
    "python": (
        "import subprocess\n"
        "subprocess.run(['{curl}', '-sf', '-m', '2', 'http://127.0.0.1:{port}/'], check=True)\n"
    ),
    "javascript": (
        "require('child_process').execFileSync('{curl}', "
        "['-sf', '-m', '2', 'http://127.0.0.1:{port}/']);"
    ),
}


@pytest.mark.parametrize("language", ["python", "javascript"])
def test_a_curl_child_cannot_reach_the_network(mode, language):
    curl = shutil.which("curl")
    require(None if curl else "no curl on PATH to try with", "curl")
    with listener() as (port, reached):
        outcome = run(language, CURL[language].format(curl=curl, port=port))
    assert not outcome.passed and reached == []


DETACHED = {
    "python": (
        "import subprocess, sys\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)', '{token}'],\n"
        "                 start_new_session=True)\n"
    ),
    "javascript": (
        "require('child_process').spawn(process.execPath, "
        "['-e', 'setTimeout(() => {{}}, 60000)', '{token}'], "
        "{{detached: true, stdio: 'ignore'}}).unref();"
    ),
}


@pytest.mark.parametrize("language", ["python", "javascript"])
def test_a_detached_child_does_not_outlive_its_task(mode, language):
    token = f"codegen-eval-detached-{uuid.uuid4().hex}"
    outcome = run(language, DETACHED[language].format(token=token))
    assert not outcome.passed, outcome.detail
    assert survivors(token) == []


FORK_BOMB = {
    # bounded here (500), so that the machine survives a sandbox that fails this test
    "python": (
        "import os, time\n"
        "for _ in range(500):\n"
        "    if os.fork() == 0:\n"
        "        time.sleep(30)\n"
        "        os._exit(0)\n"
    ),
    "javascript": (
        "const { spawn } = require('child_process');\n"
        "for (let i = 0; i < 500; i++)\n"
        "  spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);"
    ),
}


@pytest.mark.parametrize("language", ["python", "javascript"])
def test_a_fork_bomb_is_stopped(mode, language):
    if language == "python" and not mode.process_limit:
        require(
            "root without a pids cgroup: no process limit holds (the report says so)",
            "nothing: run the tests as a user, or as root where /sys/fs/cgroup is writable",
        )
    outcome = run(language, FORK_BOMB[language])
    assert not outcome.passed and outcome.reason != "timeout", outcome


MANY_FILES = {
    "python": "for i in range(10_000):\n    open(f'f{i}.txt', 'w').write('x')\n",
    "javascript": (
        "const fs = require('fs');\n"
        "for (let i = 0; i < 10000; i++) fs.writeFileSync(`f${i}.txt`, 'x');"
    ),
}


@pytest.mark.parametrize("language", ["python", "javascript"])
def test_ten_thousand_small_files_are_stopped(mode, language):
    outcome = run(language, MANY_FILES[language], limits=ROOMY)
    assert not outcome.passed
    if language == "python":  # node's permission model refuses the first write
        assert outcome.reason == "files", outcome


def test_code_cannot_write_outside_its_directory(mode, tmp_path):
    target = tmp_path / "written.txt"
    outcome = run("python", f"open({str(target)!r}, 'w').write('x')\n")
    assert not outcome.passed and not target.exists()


def test_a_task_in_bounds_still_passes_in_every_mode(mode):
    code = "import json, subprocess, sys\nopen('out.txt', 'w').write(json.dumps([1, 2]))\n"
    tests = "assert json.loads(open('out.txt').read()) == [1, 2]\n"
    assert run("python", code, tests).passed
    assert run("javascript", "const add = (a, b) => a + b;", "assert.equal(add(2, 3), 5);").passed


def test_the_report_says_what_confines_the_code():
    strong = Confinement(namespaces=True, landlock=7)
    assert strong.strong and "Landlock ABI 7 (files, TCP, signals)" in strong.describe()
    weak = Confinement(namespaces=False, landlock=0)
    assert not weak.strong
    assert "the code can read any file you can" in weak.describe()
    assert "network refused only by Python's socket API" in weak.describe()
    assert not Confinement(namespaces=False, landlock=3).strong  # files, but TCP open
    assert Confinement(namespaces=False, landlock=4).strong


def test_a_stage_in_aws_is_refused_where_the_sandbox_is_weak_unless_unconfined(monkeypatch):
    from deploy.evaluation.runner import EvalError
    from deploy.evaluation.stage import check_confinement

    weak = Confinement(namespaces=False, landlock=0)
    monkeypatch.setattr("deploy.evaluation.stage.confinement", lambda: weak)
    with pytest.raises(EvalError, match="--unconfined") as refused:
        check_confinement(emulated=False, unconfined=False)
    assert "\n" not in str(refused.value)  # one line
    check_confinement(emulated=True, unconfined=False)  # the local stage's own model
    check_confinement(emulated=False, unconfined=True)
    monkeypatch.setattr(
        "deploy.evaluation.stage.confinement", lambda: Confinement(namespaces=False, landlock=4)
    )
    check_confinement(emulated=False, unconfined=False)
