"""The Lambda Runtime API of the local workers answers loopback callers only: a DNS-rebinding
page (its own host name in Host) cannot read invocation events or steal invocations, and a
page of another site cannot post to it."""

import asyncio
from pathlib import Path

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from local_stage.runtime.service import PREFIX, RuntimeService, RuntimeSettings


def answers(method: str, path: str, **headers: str) -> int:
    async def scenario() -> int:
        service = RuntimeService(
            RuntimeSettings(
                root=Path("/nonexistent"),
                runtimes=Path("/nonexistent"),
                build_dir=Path("/nonexistent"),
                region="us-east-1",
                endpoints={},
                credentials=("k", "s"),
            )
        )
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
