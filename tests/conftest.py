"""Make the function's source (lambda/) importable as `codegen`, as it is on Lambda; give each
end-to-end test the shared local stack of its runtime client, one worker per stack when the
run is spread over several (pytest-xdist)."""

import os
import sys
from collections import Counter
from pathlib import Path

import pytest

from deploy.paths import LAMBDA_DIR
from local_stage.runtime.interpreter import available_clients, runtime_client

if str(LAMBDA_DIR) not in sys.path:
    sys.path.insert(0, str(LAMBDA_DIR))

STACK_FIXTURE = "local_stage"  # tests/e2e/conftest.py
# A test not marked `runtime_client` may run on either stack (the client cannot change its
# outcome): these modules run on the other client's stack where this OS has two, so that the
# two stacks, each on its own worker, finish at about the same time.
# Which: those that even the two out (on 2 cores, the native stack's tests took 851 s and the
# http stack's 548 s before test_console's 124 s moved over).
OTHER_STACK_MODULES = {"test_console", "test_hostile_input", "test_jobs"}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test on the local stack runs, marked `runtime_client`, on a stack of each client this
    OS has; otherwise on one stack (see OTHER_STACK_MODULES), by default that of this OS's
    default client."""
    if STACK_FIXTURE not in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker("runtime_client"):
        clients = list(available_clients())
    else:
        default = runtime_client()
        others = [client for client in available_clients() if client != default]
        moved = metafunc.module.__name__.rsplit(".", 1)[-1] in OTHER_STACK_MODULES
        clients = [others[0] if moved and others else default]
    metafunc.parametrize(STACK_FIXTURE, clients, indirect=True, scope="session")


def stack_client(item: pytest.Item) -> str | None:
    """The runtime client of the local stack a test runs on; None for a test without one."""
    callspec = getattr(item, "callspec", None)
    return callspec.params.get(STACK_FIXTURE) if callspec is not None else None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under `--dist loadgroup`, all the tests of one local stack on one worker (so one stack
    per client in the whole run). Modules whose tests share other state say so themselves."""
    for item in items:
        client = stack_client(item)
        if client is not None:
            item.add_marker(pytest.mark.xdist_group(f"local-stack-{client}"))


SKIP_SUMMARY_VARIABLE = "CODEGEN_SKIP_SUMMARY"  # scripts/test.sh prints this file last


def skipped_groups(reports: list[pytest.TestReport]) -> list[str]:
    """One line per group of skipped tests (a module and one reason), most tests first:
    "tests/e2e/test_console.py: 4 tests skipped, no Chromium ...: needs ..."."""
    groups: Counter[tuple[str, str]] = Counter()
    for report in reports:
        if isinstance(report.longrepr, tuple):
            _path, _line, reason = report.longrepr
        else:
            reason = str(report.longrepr)
        module = report.nodeid.split("::", 1)[0]
        groups[(module, reason.removeprefix("Skipped: "))] += 1
    return [
        f"{module}: {count} test{'s' if count > 1 else ''} skipped, {reason}"
        for (module, reason), count in sorted(groups.items(), key=lambda g: (-g[1], g[0]))
    ]


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Say what did not run, and why, in one line per group; also into the file named by
    $CODEGEN_SKIP_SUMMARY, for scripts/test.sh to print after everything else."""
    reports = [r for r in terminalreporter.stats.get("skipped", []) if r.skipped]
    lines = skipped_groups(reports)
    if lines:
        terminalreporter.section("what did not run, and why")
        for line in lines:
            terminalreporter.write_line(line)
    target = os.environ.get(SKIP_SUMMARY_VARIABLE)
    if target:
        Path(target).write_text("".join(f"{line}\n" for line in lines))
