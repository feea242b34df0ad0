"""Who may use a local server (the emulator, the gateway, the model server).

The local stack listens on 127.0.0.1 only, but a web page in the user's browser can reach
127.0.0.1 too. So every request, on every path, must:
- name a loopback host in `Host` (a DNS-rebinding page sends its own host name there);
- come from no `Origin`, or from the server's own (no cross-site request, simple or not: a
  browser sends a "simple" cross-origin POST, form-encoded like SQS's query API, even where no
  CORS grant lets the page read the answer);
- not be marked by the browser as `Sec-Fetch-Site: cross-site` or `same-site`. A browser sends
  that header on every request, an `<img>`'s GET too, which carries no `Origin`: so a page of
  any other site cannot make the user's browser call a local server at all. (A navigation the
  user makes says `none`, the console's own calls `same-origin`; other clients send none.)
A request to a server's own paths (/_local/: health, faults, the console) and to moto's
(/moto-api/: its recorder, which would write every request body to disk, and its reset) must
also carry the stack's token (`X-Local-Token`, or `?token=` for the console's page and links),
which only the user can read (the stack's 0600 state file, the URL `local.up` printed). The AWS
API paths are left to SigV4 for the rest: the SDKs and Terraform never send the token, nor an
`Origin`, nor `Sec-Fetch-Site`.
A request from another machine (a server bound to a non-loopback address, as `model.server
--host 0.0.0.0` may be) must carry the token on every path: its `Host` proves nothing, since
a network client writes whatever it likes there.
"""

import hmac
import ipaddress
import json
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from local_stage.contract import LOCAL_PREFIX, TOKEN_HEADER, TOKEN_QUERY

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})
# Paths of the servers' own that need the stack's token (moto's own control API included).
TOKEN_PREFIXES = (LOCAL_PREFIX, "/moto-api/")
# What a browser says of a request a page of another site makes.
FOREIGN_FETCH_SITES = frozenset({"cross-site", "same-site"})
# Names under .localhost are this machine's in every browser (RFC 6761), whatever DNS says.
LOOPBACK_SUFFIX = ".localhost"


@dataclass(frozen=True)
class Refusal:
    status: int
    message: str


def refusal(
    path: str,
    host: str | None,
    origin: str | None,
    token: str | None,
    expected: str,
    fetch_site: str | None = None,
    peer: str | None = None,
) -> Refusal | None:
    """Why a request to `path` from `peer` (the client's address; None: this machine) is
    refused, or None when it may go on."""
    if not host or not _is_loopback(_host_name(host)):
        return Refusal(403, f"Host {host!r} is not this machine's loopback address")
    if origin is not None and origin != f"http://{host}":
        return Refusal(403, f"requests from {origin!r} are refused (cross-origin)")
    if fetch_site is not None and fetch_site.strip().lower() in FOREIGN_FETCH_SITES:
        return Refusal(403, f"requests a browser marks {fetch_site!r} are refused (another site)")
    if not path.startswith(TOKEN_PREFIXES) and _is_loopback_peer(peer):
        return None
    if not token or not hmac.compare_digest(token.encode(), expected.encode()):
        return Refusal(
            403,
            f"a missing or wrong token: send the stack's token in {TOKEN_HEADER} (it is in "
            "the URL `invoke local.console` prints)",
        )
    return None


def _is_loopback_peer(peer: str | None) -> bool:
    if peer is None:
        return True
    try:
        return ipaddress.ip_address(peer.split("%", 1)[0]).is_loopback
    except ValueError:  # a Unix socket's peer: this machine
        return True


def _is_loopback(name: str) -> bool:
    return name.lower() in LOOPBACK_HOSTS or name.lower().endswith(LOOPBACK_SUFFIX)


def _host_name(host: str) -> str:
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def aiohttp_guard(expected: str) -> Callable[..., Awaitable[web.StreamResponse]]:
    """aiohttp middleware refusing the requests that fail `refusal`."""

    @web.middleware
    async def guard(request: web.Request, handler: Any) -> web.StreamResponse:
        refused = refusal(
            request.path,
            request.headers.get("Host"),
            request.headers.get("Origin"),
            request.headers.get(TOKEN_HEADER) or request.query.get(TOKEN_QUERY),
            expected,
            request.headers.get("Sec-Fetch-Site"),
            request.remote,
        )
        if refused is not None:
            return web.json_response({"message": refused.message}, status=refused.status)
        return await handler(request)

    return guard


def wsgi_guard(app: Callable[..., Iterable[bytes]], expected: str):
    """The same rule as WSGI middleware (the emulator)."""

    def middleware(environ: dict[str, Any], start_response: Callable[..., Any]):
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
        refused = refusal(
            environ.get("PATH_INFO", ""),
            environ.get("HTTP_HOST"),
            environ.get("HTTP_ORIGIN"),
            environ.get("HTTP_" + TOKEN_HEADER.upper().replace("-", "_"))
            or (query.get(TOKEN_QUERY) or [None])[0],
            expected,
            environ.get("HTTP_SEC_FETCH_SITE"),
            environ.get("REMOTE_ADDR"),
        )
        if refused is None:
            return app(environ, start_response)
        body = json.dumps({"message": refused.message}).encode()
        start_response(
            f"{refused.status} Forbidden",
            [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        )
        return [body]

    return middleware


def is_json(content_type: str | None) -> bool:
    """True for `application/json` (with or without parameters): the faults endpoints take
    nothing else, so a browser's "simple" cross-origin POST (text/plain, a form) never is."""
    return (content_type or "").split(";", 1)[0].strip().lower() == "application/json"
