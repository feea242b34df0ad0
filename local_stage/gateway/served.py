"""What the gateway reports of each request it answered, to whoever the stack wires to hear it
(the console's feed). The gateway knows only this shape, not who listens."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Served:
    method: str
    path: str
    route_key: str | None
    status: int
    latency_ms: float
    request_id: str  # API Gateway's
    request_body: bytes
    response_body: bytes
    response_type: str
    location: str | None  # a job's URL (202)


OnServed = Callable[[Served], Awaitable[None]]
