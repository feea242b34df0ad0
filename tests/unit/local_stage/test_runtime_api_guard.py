"""The Lambda Runtime API of the local workers answers loopback callers only: a DNS-rebinding
page (its own host name in Host) cannot read invocation events or steal invocations, and a
page of another site cannot post to it."""

import asyncio
from pathlib import Path

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from local_stage.runtime.service import PREFIX, RuntimeService, RuntimeSettings


def new_service() -> RuntimeService:
    """A Runtime API service with no functions (nothing is spawned)."""
    nowhere = Path("/nonexistent")
    settings = RuntimeSettings(
        root=nowhere,
        runtimes=nowhere,
        build_dir=nowhere,
        region="us-east-1",
        endpoints={},
        credentials=("k", "s"),
    )
    return RuntimeService(settings)


def answers(method: str, path: str, **headers: str) -> int:
    async def scenario() -> int:
        service = new_service()
        server = TestServer(service._runner.app)
        await server.start_server()
        try:
            async with (
                ClientSession() as session,
                session.request(
                    method, server.make_url(path), headers=headers, data=b"{}"
                ) as answer,
            ):
                return answer.status
        finally:
            await server.close()

    return asyncio.run(asyncio.wait_for(scenario(), timeout=10))


def test_a_rebinding_host_cannot_take_the_next_invocation():
    assert answers("GET", f"{PREFIX}/invocation/next", Host="evil.example") == 403


def test_a_page_of_another_site_cannot_post_an_init_error():
    assert answers("POST", f"{PREFIX}/init/error", Origin="http://evil.example") == 403
    assert answers("POST", f"{PREFIX}/init/error", **{"Sec-Fetch-Site": "cross-site"}) == 403


def test_a_loopback_caller_is_answered_by_the_runtime_api_itself():
    # No worker listens behind this test server's port: the API's own answer, not the guard's.
    assert answers("GET", f"{PREFIX}/invocation/next") == 410


def status_through_the_worker_check(worker_pid: int) -> int:
    """A request from this process to a Runtime API port whose worker is `worker_pid`, through
    the service's own check (the handler behind it answers 200)."""
    from types import SimpleNamespace

    from aiohttp import web

    async def scenario() -> int:
        service = new_service()
        app = web.Application(middlewares=[service._only_its_worker])

        async def next_invocation(request: web.Request) -> web.Response:
            return web.Response(text="ok")

        app.router.add_get(f"{PREFIX}/invocation/next", next_invocation)
        server = TestServer(app)
        await server.start_server()
        service._by_port[server.port] = SimpleNamespace(process=SimpleNamespace(pid=worker_pid))
        try:
            async with (
                ClientSession() as session,
                session.get(server.make_url(f"{PREFIX}/invocation/next")) as answer,
            ):
                return answer.status
        finally:
            await server.close()

    return asyncio.run(asyncio.wait_for(scenario(), timeout=10))


def test_a_workers_runtime_api_answers_its_own_process_only():
    import os
    import subprocess
    import sys

    assert status_through_the_worker_check(os.getpid()) == 200  # the request is this process's
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:  # another local process that found the port: refused
        assert status_through_the_worker_check(other.pid) == 403
    finally:
        other.kill()
        other.wait()
