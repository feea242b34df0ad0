"""Every AWS API request to the emulator must be signed (SigV4) by a key it knows: the stack's
own pair, an IAM user's access key made in the emulator, or a role session assumed there (with
its session token). moto never checks a signature: without this, any process on the machine
could call UpdateFunctionCode with the well-known `test` keys and have the local runtime run
its zip as the developer, or read every table, queue and object.

The signature is recomputed with botocore's own signer over the request as received, as the
gateway checks its routes (local_stage.access.sigv4). The payload hash is the one the request signed
(`x-amz-content-sha256` where it sends one: S3's UNSIGNED-PAYLOAD and streaming forms are what
SDKs sign over plain HTTP): the signature proves who sends it, which is what is checked here.
The servers' own paths (/_local/, /moto-api/) take the stack's token instead (guard).
"""

import io
from collections.abc import Callable, Iterable
from typing import Any

from local_stage.access.guard import TOKEN_PREFIXES
from local_stage.access.sigv4 import SecretLookup, credential_scope, verify
from local_stage.faults import error_body

StartResponse = Callable[..., Any]


def verifying(app: Callable[..., Iterable[bytes]], keys: SecretLookup):
    """WSGI middleware: a request that is not signed by one of `keys` is refused with 403
    and the error AWS gives (its code in the body and in `x-amzn-ErrorType`)."""

    def middleware(environ: dict[str, Any], start_response: StartResponse):
        path = environ.get("PATH_INFO", "")
        if path.startswith(TOKEN_PREFIXES):
            return app(environ, start_response)
        headers = _headers(environ)
        scope = credential_scope(environ.get("HTTP_AUTHORIZATION", ""))
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(size) if size else b""
        environ["wsgi.input"] = io.BytesIO(body)
        region, service = scope or ("", "")
        verdict = verify(
            environ.get("REQUEST_METHOD", "GET"),
            _url(environ),
            headers,
            body,
            keys,
            region,
            service=service,
            bind_body=False,
        )
        if verdict.ok and _session_token_matches(keys, verdict.access_key, environ):
            return app(environ, start_response)
        code = verdict.code or "InvalidClientTokenId"
        message = verdict.message or "The security token included in the request is invalid."
        content_type, payload = error_body(environ, code, f"local stack: {message}")
        start_response(
            "403 Forbidden",
            [
                ("Content-Type", content_type),
                ("Content-Length", str(len(payload))),
                ("x-amzn-ErrorType", code),
            ],
        )
        return [payload]

    return middleware


def _session_token_matches(keys: SecretLookup, access_key: str, environ: dict[str, Any]) -> bool:
    """A role session's key is good only with that session's token, as on AWS."""
    expected = getattr(keys, "session_token", lambda key: None)(access_key)
    return expected is None or environ.get("HTTP_X_AMZ_SECURITY_TOKEN") == expected


def _headers(environ: dict[str, Any]) -> list[tuple[str, str]]:
    headers = [
        (name[5:].replace("_", "-").lower(), str(value))
        for name, value in environ.items()
        if name.startswith("HTTP_")
    ]
    for name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(name):
            headers.append((name.replace("_", "-").lower(), str(environ[name])))
    return headers


def _url(environ: dict[str, Any]) -> str:
    """The URL as the client sent it: the raw path and query, not werkzeug's decoded ones."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if not raw:
        query = environ.get("QUERY_STRING", "")
        raw = environ.get("PATH_INFO", "") + (f"?{query}" if query else "")
    return f"http://{environ.get('HTTP_HOST', '127.0.0.1')}{raw}"
