"""One invocation of a function, from the gateway's request to the worker's answer."""

import asyncio
import time
import uuid
from dataclasses import dataclass, field


@dataclass(frozen=True)
class InvokeResult:
    ok: bool  # False: a function error (handler raised, timed out, crashed, failed to init)
    payload: bytes  # the result, or Lambda's error document
    error_type: str = ""
    logs: tuple[str, ...] = ()
    duration_ms: float = 0.0
    init_ms: float | None = None  # set on cold starts


@dataclass
class Invocation:
    event: bytes
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created: float = field(default_factory=time.monotonic)
    future: asyncio.Future[InvokeResult] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    started: float | None = None
    init_ms: float | None = None
    logs: list[str] = field(default_factory=list)
    cancelled: bool = False

    def finish(self, result: InvokeResult) -> None:
        if not self.future.done():
            self.future.set_result(result)
