"""Map what a function returned to the HTTP response API Gateway would send."""

import base64
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)


def gateway_error(status: int, message: str) -> HttpResponse:
    body = json.dumps({"message": message}).encode()
    return HttpResponse(status, body, [("Content-Type", "application/json")])


NOT_FOUND = gateway_error(404, "Not Found")
TOO_MANY = gateway_error(429, "Too Many Requests")
INTERNAL = gateway_error(500, "Internal Server Error")
UNAVAILABLE = gateway_error(503, "Service Unavailable")
TOO_LARGE = gateway_error(413, "Request Entity Too Large")


def map_result(payload: bytes, version: str) -> HttpResponse:
    """The function's successful result -> HTTP response, per the payload version's rules."""
    try:
        result = json.loads(payload) if payload else None
    except ValueError:
        return INTERNAL
    if version == "2.0" and not (isinstance(result, dict) and "statusCode" in result):
        # No statusCode: API Gateway assumes 200 and sends the whole result as JSON.
        return HttpResponse(200, payload, [("Content-Type", "application/json")])
    if not isinstance(result, dict):
        return INTERNAL
    return _structured(result, version)


def _structured(result: dict[str, Any], version: str) -> HttpResponse:
    status = result.get("statusCode")
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        return INTERNAL
    body = result.get("body")
    if body is None:
        data = b""
    elif isinstance(body, str):
        if result.get("isBase64Encoded"):
            try:
                data = base64.b64decode(body, validate=True)
            except ValueError:
                return INTERNAL
        else:
            data = body.encode("utf-8")
    else:
        data = json.dumps(body).encode() if version == "2.0" else b""
        if version != "2.0":
            return INTERNAL
    headers: list[tuple[str, str]] = []
    for name, value in (result.get("headers") or {}).items():
        headers.append((str(name), _header_value(value)))
    for name, values in (result.get("multiValueHeaders") or {}).items():
        for value in values if isinstance(values, list) else [values]:
            headers.append((str(name), _header_value(value)))
    for cookie in result.get("cookies") or []:
        headers.append(("Set-Cookie", str(cookie)))
    return HttpResponse(status, data, headers)


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
