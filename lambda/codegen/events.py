"""Read what the function needs from an API Gateway proxy event (payload 2.0 or 1.0)."""

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from codegen.errors import HttpError, bad_request


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes


def parse_event(event: Any) -> HttpRequest:
    """Method, path, headers and the raw body bytes of a payload 2.0 or 1.0 event."""
    if not isinstance(event, dict):
        raise bad_request("the event is not an API Gateway proxy event (expected an object)")
    if event.get("version") == "2.0":
        http = (event.get("requestContext") or {}).get("http") or {}
        method, path = http.get("method", ""), event.get("rawPath", "")
    else:
        method, path = event.get("httpMethod", ""), event.get("path", "")
    if not method:
        raise bad_request("the event is not an API Gateway proxy event (no HTTP method)")
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    return HttpRequest(method.upper(), path, headers, _body_bytes(event))


def _body_bytes(event: dict[str, Any]) -> bytes:
    body = event.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise bad_request("the event body must be a string")
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise bad_request("the body is marked base64-encoded but is not valid base64") from exc
    try:
        return body.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise bad_request("the body is not valid UTF-8 text") from exc


def require_method(request: HttpRequest, allowed: str) -> None:
    if request.method != allowed:
        raise HttpError(
            405,
            "MethodNotAllowed",
            f"{request.method} is not supported here; send {allowed} /code-generation",
            headers={"Allow": allowed},
        )


def prefers_text(headers: dict[str, str]) -> bool:
    """True when the Accept header ranks text/plain above application/json."""
    ranks: dict[str, float] = {}
    for part in headers.get("accept", "").split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranks[media.lower()] = max(quality, ranks.get(media.lower(), 0.0))
    text = ranks.get("text/plain", 0.0)
    json_rank = max(ranks.get("application/json", 0.0), ranks.get("*/*", 0.0) * 0.99)
    return text > 0 and text >= json_rank
