"""A call the SDK sends again is answered as its first attempt was, on the local emulator.

AWS SDKs name each call (`amz-sdk-invocation-id`, the same on every attempt of it) and count
its attempts (`amz-sdk-request: attempt=2; max=25`). When an attempt's answer does not reach
the caller (a connection closed under load, a read that gave up), the SDK sends the call again;
a create that already happened then fails as a conflict. The AWS provider for Terraform retries
Lambda's ResourceConflictException for five minutes and then fails ("Function already exist",
hashicorp/terraform-provider-aws#29263): a deploy into a loaded local stack failed so now and then.

Here a changing call's successful answer is kept under its invocation id (the last
`_REMEMBERED` of them); another attempt of the same call gets that answer again, without
running it twice, and waits for it if the first attempt is still running. The log says each
time it happens, with the operation, so that what lost the first answer can be found.
"""

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from local_stage.access.sigv4 import credential_scope

logger = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
_READ_METHODS = {"GET", "HEAD", "OPTIONS"}
_REMEMBERED = 2048  # answers kept: the SDK retries within seconds, a deploy makes ~100 calls
# In each log line of a call answered again (the tests gather them: tests/e2e/conftest.py).
RETRY_LOG_MARKER = "is a retry of a call already answered"
_WAIT_FOR_FIRST_S = 600.0  # an attempt of a call still running waits this long for its answer


@dataclass
class _Answer:
    status: str = ""
    headers: list[tuple[str, str]] | None = None
    body: bytes = b""
    done: threading.Event = field(default_factory=threading.Event)
    started: float = 0.0  # time.monotonic() when the first attempt came, and when it was answered
    answered: float = 0.0


class RetriedCalls:
    """WSGI middleware: each changing call with an invocation id runs once."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._answers: OrderedDict[str, _Answer] = OrderedDict()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        call = environ.get("HTTP_AMZ_SDK_INVOCATION_ID")
        if not call or environ.get("REQUEST_METHOD", "GET") in _READ_METHODS:
            return self._app(environ, start_response)
        with self._lock:
            earlier = self._answers.get(call)
            if earlier is None:
                mine = self._answers[call] = _Answer(started=time.monotonic())
                while len(self._answers) > _REMEMBERED:
                    self._answers.popitem(last=False)
        if earlier is not None:
            return self._again(earlier, call, environ, start_response)
        return self._first(mine, call, environ, start_response)

    def _first(
        self, answer: _Answer, call: str, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        def keeping(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            answer.status, answer.headers = status, list(headers)
            return start_response(status, headers, *rest)

        kept = False
        try:
            body = self._app(environ, keeping)
            try:
                answer.body = b"".join(body)
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()
            kept = answer.status[:1] == "2"  # only a success is an answer to give again
            return [answer.body]
        finally:
            answer.answered = time.monotonic()
            if not kept:
                with self._lock:
                    self._answers.pop(call, None)  # another attempt runs it again
            answer.done.set()

    def _again(
        self, earlier: _Answer, call: str, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        operation = _operation(environ)
        attempt = environ.get("HTTP_AMZ_SDK_REQUEST", "attempt=?")
        if not earlier.done.wait(_WAIT_FOR_FIRST_S) or earlier.headers is None:
            return self._app(environ, start_response)  # it never answered: run this one
        if earlier.status[:1] != "2":
            return self._app(environ, start_response)  # it failed: this attempt runs
        logger.warning(
            "%s (%s, call %s) %s %s: answered the same again instead of running it twice "
            "(the first attempt came %.1f s ago and was answered in %.1f s; its answer did "
            "not reach the caller)",
            operation,
            attempt,
            call,
            RETRY_LOG_MARKER,
            earlier.status,
            time.monotonic() - earlier.started,
            earlier.answered - earlier.started,
        )
        start_response(earlier.status, list(earlier.headers))
        return [earlier.body]


def _operation(environ: dict[str, Any]) -> str:
    """What a call is, for the log: its service (the signature's scope), its target or action
    where the protocol names it in a header, and its method and path."""
    scope = credential_scope(environ.get("HTTP_AUTHORIZATION", ""))
    service = scope[1] if scope else "unsigned"
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    request = f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO', '')}"
    return " ".join(part for part in (service, target, request) if part)


__all__ = ["RETRY_LOG_MARKER", "RetriedCalls"]
