"""Make the function's source (lambda/) importable as `codegen`, as it is on Lambda; give each
end-to-end test the shared local stack of its runtime client, one worker per stack when the
run is spread over several (pytest-xdist)."""

import sys

import pytest

from deploy.paths import LAMBDA_DIR
from local_stage.interpreter import available_clients, runtime_client

if str(LAMBDA_DIR) not in sys.path:
    sys.path.insert(0, str(LAMBDA_DIR))

STACK_FIXTURE = "local_stage"  # tests/e2e/conftest.py


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test on the local stack runs on the stack of this OS's default runtime client, or,
    marked `runtime_client`, on a stack of each client this OS has."""
    if STACK_FIXTURE not in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker("runtime_client"):
        clients = list(available_clients())
    else:
        clients = [runtime_client()]
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
