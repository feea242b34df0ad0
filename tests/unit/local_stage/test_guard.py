"""Who may use the local servers: a loopback Host and no foreign Origin on every path, and the
stack's token on their own /_local/ paths; the AWS API paths are left to SigV4 for the rest."""

import io
import json

import pytest

from local_stage.access.guard import is_json, refusal, wsgi_guard
from local_stage.contract import TOKEN_HEADER

TOKEN = "s3cr3t-token"
PATH = "/_local/console/api/requests"


def test_the_token_from_the_header_or_the_query_on_a_loopback_host_is_let_through():
    for host in ("127.0.0.1:8080", "localhost:8080", "[::1]:8080", "my-bucket.localhost:80"):
        assert refusal(PATH, host, None, TOKEN, TOKEN) is None
    assert refusal(PATH, "127.0.0.1:8080", "http://127.0.0.1:8080", TOKEN, TOKEN) is None


@pytest.mark.parametrize(
    ("host", "origin", "token", "says"),
    [
        ("127.0.0.1:8080", None, None, "token"),
        ("127.0.0.1:8080", None, "", "token"),
        ("127.0.0.1:8080", None, "s3cr3t-tokeX", "token"),
        ("evil.example:8080", None, TOKEN, "loopback"),  # DNS rebinding
        ("127.0.0.1.evil.example", None, TOKEN, "loopback"),
        (None, None, TOKEN, "loopback"),
        ("127.0.0.1:8080", "http://evil.example", TOKEN, "cross-origin"),
        ("127.0.0.1:8080", "null", TOKEN, "cross-origin"),
        ("127.0.0.1:8080", "http://127.0.0.1:9999", TOKEN, "cross-origin"),  # another server
    ],
)
def test_a_request_without_the_token_from_elsewhere_or_another_origin_is_refused(
    host, origin, token, says
):
    refused = refusal(PATH, host, origin, token, TOKEN)
    assert refused is not None and refused.status == 403 and says in refused.message


def test_paths_outside_local_need_no_token_but_a_loopback_host_and_no_foreign_origin():
    api = "/local/code-generation"
    assert refusal(api, "127.0.0.1:8080", None, None, TOKEN) is None
    assert refusal(api, "127.0.0.1:8080", "http://127.0.0.1:8080", None, TOKEN) is None
    for host, origin, says in [
        ("evil.example", None, "loopback"),  # DNS rebinding
        ("127.0.0.1:8080", "http://evil.example", "cross-origin"),  # a simple POST
    ]:
        refused = refusal(api, host, origin, None, TOKEN)
        assert refused is not None and refused.status == 403 and says in refused.message


def test_the_emulator_answers_its_local_paths_only_to_the_token():
    app = wsgi_guard(lambda environ, start_response: [b"inner"], TOKEN)

    def call(path: str, query: str = "", **headers: str) -> tuple[str, bytes]:
        seen: list[str] = []
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "HTTP_HOST": "127.0.0.1:4566",
            "wsgi.input": io.BytesIO(b""),
            **{"HTTP_" + name.upper(): value for name, value in headers.items()},
        }
        answer = b"".join(app(environ, lambda status, headers: seen.append(status)))
        return (seen[0] if seen else "200 OK"), answer

    status, body = call("/_local/health")
    assert status.startswith("403") and TOKEN_HEADER in json.loads(body)["message"]
    assert call("/_local/health", X_LOCAL_TOKEN=TOKEN) == ("200 OK", b"inner")
    assert call("/_local/health", f"token={TOKEN}") == ("200 OK", b"inner")
    assert call("/bucket/key") == ("200 OK", b"inner")  # S3's own path: SigV4's business
    status, body = call("/", ORIGIN="http://evil.example")  # SQS's query API, form-encoded
    assert status.startswith("403") and "cross-origin" in json.loads(body)["message"]


def test_only_json_is_json():
    assert is_json("application/json") and is_json("application/json; charset=utf-8")
    assert not any(is_json(t) for t in (None, "", "text/plain", "multipart/form-data"))


@pytest.mark.parametrize("site", ["cross-site", "same-site", "Cross-Site"])
def test_a_request_a_browser_marks_as_another_sites_is_refused_on_every_path(site):
    """An <img> of another site's page sends a GET with no Origin; its browser still says
    where it comes from. Refused everywhere, the token and the API paths alike."""
    for path, token in ((PATH, TOKEN), ("/local/code-generation", None), ("/", None)):
        refused = refusal(path, "127.0.0.1:8080", None, token, TOKEN, site)
        assert refused is not None and refused.status == 403 and "another site" in refused.message


@pytest.mark.parametrize("site", ["same-origin", "none", None])
def test_the_users_own_navigation_and_the_consoles_own_calls_go_through(site):
    assert refusal(PATH, "127.0.0.1:8080", None, TOKEN, TOKEN, site) is None


@pytest.mark.parametrize("path", ["/moto-api/recorder/start-recording", "/moto-api/reset"])
def test_motos_own_control_paths_need_the_token(path):
    refused = refusal(path, "127.0.0.1:8080", None, None, TOKEN)
    assert refused is not None and refused.status == 403 and "token" in refused.message
    assert refusal(path, "127.0.0.1:8080", None, TOKEN, TOKEN) is None


@pytest.mark.parametrize("path", ["/model/anthropic.claude-haiku-5-5/invoke", "/", PATH])
def test_a_request_from_another_machine_needs_the_token_on_every_path(path):
    """A server bound to a non-loopback address (model.server --host 0.0.0.0): a network
    client may write a loopback Host, but its address is not loopback."""
    for peer in ("192.168.1.20", "10.0.0.7", "fe80::1"):
        refused = refusal(path, "127.0.0.1:8080", None, None, TOKEN, peer=peer)
        assert refused is not None and "token" in refused.message, peer
        assert refusal(path, "127.0.0.1:8080", None, TOKEN, TOKEN, peer=peer) is None
    for peer in ("127.0.0.1", "::1", None):  # this machine: the AWS paths are SigV4's
        if not path.startswith("/_local/"):
            assert refusal(path, "127.0.0.1:8080", None, None, TOKEN, peer=peer) is None


def test_an_aiohttp_server_refuses_a_remote_peer_without_the_token():
    import asyncio

    from aiohttp import web
    from aiohttp.test_utils import make_mocked_request

    from local_stage.access.guard import aiohttp_guard

    guard = aiohttp_guard(TOKEN)

    async def handler(request):
        return web.Response(text="inner")

    def request(remote: str, **headers: str):
        mocked = make_mocked_request(
            "POST", "/model/m/invoke", headers={"Host": "127.0.0.1:8080", **headers}
        )
        return mocked.clone(remote=remote)

    async def answer(remote: str, **headers: str) -> web.Response:
        return await guard(request(remote, **headers), handler)

    assert asyncio.run(answer("192.168.1.20")).status == 403
    assert asyncio.run(answer("192.168.1.20", **{TOKEN_HEADER: TOKEN})).text == "inner"
    assert asyncio.run(answer("127.0.0.1")).text == "inner"
