"""Faults on the local emulator, for testing what the function does when AWS misbehaves.

A rule matches requests by method and path (a glob over the path as the server sees it,
e.g. `/my-bucket/code-output/*` for S3's path-style object keys on the emulator, or
`/model/*/converse` on the model server) and then waits `delay_s` and, when it has a
`status`, answers that error (`code`) itself: the request never reaches the backend, so
nothing is half-written. `times` limits how many requests a rule hits (0: every one).
`service` narrows a rule to requests signed for one AWS service (`servicequotas`, `bedrock`,
...: the emulator serves them all on one port, several on the same path). The error names its
code in the body (XML, for the query services) and in `x-amzn-ErrorType` (for the JSON ones),
so every SDK reads it as that service's error.

    POST   /_local/faults  {"method": "PUT", "path": "/bucket/*", "delay_s": 3, "status": 503}
    GET    /_local/faults  (the rules, each with how many requests it has hit)
    DELETE /_local/faults  (clears every rule)

Only the local stage's servers (the emulator, the model server) serve this path, to a caller
with the stack's token (local_stage.access.guard), and take rules as JSON only; the rules live in
their memory.
"""

import fnmatch
import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any, Generic, Protocol, TypeVar

from local_stage.access.guard import is_json
from local_stage.access.sigv4 import credential_scope

PATH = "/_local/faults"
JSON_ONLY = "a fault rule is sent as Content-Type: application/json"
_MAX_DELAY_S = 120.0


@dataclass
class FaultRule:
    method: str
    path: str
    delay_s: float = 0.0
    status: int | None = None
    code: str = "ServiceUnavailable"
    times: int = 0  # 0: no limit
    service: str = "*"  # the signing service name, or * for any request
    hits: int = 0

    @classmethod
    def parse(cls, data: Any) -> "FaultRule":
        if not isinstance(data, dict) or not isinstance(data.get("path"), str):
            raise ValueError("a fault rule is a JSON object with at least a path glob")
        rule = cls(
            method=str(data.get("method", "*")).upper(),
            path=data["path"],
            delay_s=float(data.get("delay_s", 0.0)),
            status=None if data.get("status") is None else int(data["status"]),
            code=str(data.get("code", "ServiceUnavailable")),
            times=int(data.get("times", 0)),
            service=str(data.get("service", "*")).lower(),
        )
        if not 0 <= rule.delay_s <= _MAX_DELAY_S:
            raise ValueError(f"delay_s must be between 0 and {_MAX_DELAY_S:.0f}")
        if rule.status is not None and not 400 <= rule.status <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        return rule

    def matches(self, method: str, path: str, service: str = "") -> bool:
        return (
            self.method in ("*", method)
            and self.service in ("*", service)
            and fnmatch.fnmatchcase(path, self.path)
        )


class Rule(Protocol):
    """What a RuleTable keeps: a rule that counts its hits up to `times` (0: no limit)."""

    times: int
    hits: int


R = TypeVar("R", bound=Rule)


class RuleTable(Generic[R]):
    """Rules in the order they were added, safe across threads (the emulator's WSGI threads
    and the model server's loop): the first live rule that matches a request takes it."""

    def __init__(self, describe: Callable[[R], dict[str, Any]]) -> None:
        self._rules: list[R] = []
        self._lock = threading.Lock()
        self._describe = describe

    def add(self, rule: R) -> None:
        with self._lock:
            self._rules.append(rule)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [self._describe(rule) for rule in self._rules]

    def take_first(self, matches: Callable[[R], bool]) -> R | None:
        """The first live rule that `matches` (counting the hit), or None."""
        with self._lock:
            for rule in self._rules:
                if matches(rule) and (rule.times == 0 or rule.hits < rule.times):
                    rule.hits += 1
                    return rule
        return None


class FaultTable(RuleTable[FaultRule]):
    def __init__(self) -> None:
        super().__init__(asdict)

    def take(self, method: str, path: str, service: str = "") -> FaultRule | None:
        """The first live rule for this request (counting the hit), or None."""
        return self.take_first(lambda rule: rule.matches(method, path, service))


def injecting(app: Callable[..., Iterable[bytes]], table: FaultTable):
    """WSGI middleware: the control path, then the rules, then the app."""

    def middleware(environ: dict[str, Any], start_response: Callable[..., Any]):
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")
        if path == PATH:
            return _control(environ, start_response, table)
        rule = table.take(method, path, _signing_service(environ))
        if rule is None:
            return app(environ, start_response)
        time.sleep(rule.delay_s)
        if rule.status is None:
            return app(environ, start_response)
        content_type, body = error_body(environ, rule.code)
        start_response(
            f"{rule.status} Injected",
            [
                ("Content-Type", content_type),
                ("Content-Length", str(len(body))),
                ("x-amzn-ErrorType", rule.code),
            ],
        )
        return [body]

    return middleware


def error_body(
    environ: dict[str, Any], code: str, message: str = "fault injected by the local stage"
) -> tuple[str, bytes]:
    """An error as the request's protocol words one: JSON with `__type` for the JSON-1.x
    services (their calls name an X-Amz-Target), else XML (query and REST-XML services; the
    REST-JSON ones read `x-amzn-ErrorType`, which the caller sends as well)."""
    if environ.get("HTTP_X_AMZ_TARGET"):
        return "application/x-amz-json-1.1", json.dumps(
            {"__type": code, "message": message}
        ).encode()
    text = message.replace("&", "&amp;").replace("<", "&lt;")
    return (
        "application/xml",
        f"<Error><Code>{code}</Code><Message>{text}</Message></Error>".encode(),
    )


def _signing_service(environ: dict[str, Any]) -> str:
    """The AWS service a SigV4-signed request is for ("" when unsigned)."""
    scope = credential_scope(environ.get("HTTP_AUTHORIZATION", ""))
    return scope[1] if scope else ""


def _control(environ: dict[str, Any], start_response: Callable[..., Any], table: FaultTable):
    method = environ.get("REQUEST_METHOD")
    status, answer = "200 OK", {"status": "ok"}
    if method == "DELETE":
        table.clear()
    elif method == "GET":
        answer = {"status": "ok", "rules": table.describe()}
    elif method == "POST" and not is_json(environ.get("CONTENT_TYPE")):
        status, answer = "415 Unsupported Media Type", {"error": JSON_ONLY}
    elif method == "POST":
        try:
            size = int(environ.get("CONTENT_LENGTH") or 0)
            table.add(FaultRule.parse(json.loads(environ["wsgi.input"].read(size) or b"null")))
        except (ValueError, TypeError) as exc:
            status, answer = "400 Bad Request", {"error": str(exc)}
    else:
        status, answer = "405 Method Not Allowed", {"error": "POST a rule, GET them, or DELETE all"}
    body = json.dumps(answer).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]
