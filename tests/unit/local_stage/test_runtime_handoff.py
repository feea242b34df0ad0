"""The local runtime never hands an invocation to a worker that is gone: a warm worker killed
while idle, its exit not yet seen by the runtime, and a request sent at once, is served by a
new worker. The worker here is a real process speaking the Runtime API (a few lines of the
standard library in place of awslambdaric), so the runtime's own check is what is tested."""

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import psutil
import pytest

import local_stage.runtime.service as service_module
from local_stage.control_plane import Function
from local_stage.runtime.interpreter import RuntimeInterpreter
from local_stage.runtime.service import RuntimeService
from tests.unit.local_stage.functions import a_function, runtime_settings

# A runtime client: take the next invocation, answer with its event, for ever.
ECHO_RUNTIME = """
import http.client, os
connection = http.client.HTTPConnection(os.environ["AWS_LAMBDA_RUNTIME_API"])
while True:
    connection.request("GET", "/2018-06-01/runtime/invocation/next")
    answer = connection.getresponse()
    event, request_id = answer.read(), answer.getheader("Lambda-Runtime-Aws-Request-Id")
    if answer.status != 200:
        raise SystemExit(1)
    path = f"/2018-06-01/runtime/invocation/{request_id}/response"
    connection.request("POST", path, body=event)
    connection.getresponse().read()
"""

FUNCTION = a_function("echo", timeout=10, code_sha256="ZWNobw==")


class EchoRuntime(RuntimeService):
    """The runtime service with this Python as the interpreter and ECHO_RUNTIME as the
    worker: everything else (ports, the pool, the Runtime API, its checks) is the product's."""

    def interpreter(self, runtime: str) -> RuntimeInterpreter:
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        return RuntimeInterpreter(Path(sys.executable), version, exact=True)

    def runtime_command(self, interpreter: RuntimeInterpreter, function: Function) -> list[str]:
        return [str(interpreter.python), "-c", ECHO_RUNTIME]


@pytest.fixture
def runtime(tmp_path, monkeypatch) -> EchoRuntime:
    task = tmp_path / "task"
    task.mkdir()
    monkeypatch.setattr(service_module, "unpack_function", lambda *args: (task, []))
    settings = runtime_settings(tmp_path)
    return EchoRuntime(settings)


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_a_request_sent_at_once_after_an_idle_worker_is_killed_goes_to_a_new_worker(runtime):
    async def scenario() -> None:
        await runtime.start()
        try:
            first = await runtime.invoke(FUNCTION, b'"warm"', wait_s=20)
            assert first is not None and first.ok and first.payload == b'"warm"'
            (worker,) = runtime._pools["echo"].workers
            await asyncio.sleep(0.2)  # it waits in GET /next again: warm and idle
            os.kill(worker.process.pid, signal.SIGKILL)
            # The process is dead, and the runtime (its event loop not run since) has not seen
            # it exit: its GET /next is still a waiting idle worker in the pool.
            deadline = time.monotonic() + 10
            while not gone(worker.process.pid):
                assert time.monotonic() < deadline, "the killed worker did not die"
                time.sleep(0.01)
            assert worker in runtime._pools["echo"].workers and worker.alive
            second = await runtime.invoke(FUNCTION, b'"next"', wait_s=20)
            assert second is not None, "the request was never answered"
            assert second.ok, second.payload
            assert second.payload == b'"next"'
            assert worker not in runtime._pools["echo"].workers
        finally:
            await runtime.stop()

    asyncio.run(asyncio.wait_for(scenario(), timeout=60))
