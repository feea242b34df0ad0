"""What the gateway served, newest last: the console's live feed (the gateway records each
request it answered; a reader waits for the ones after the last it saw)."""

import asyncio
import json
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

from local_stage.gateway.served import Served

MAX_ENTRIES = 500
MAX_BODY_CHARS = 256 * 1024  # what is kept of a request's or answer's body


@dataclass
class FeedEntry:
    seq: int
    time: float  # epoch seconds, when it was answered
    method: str
    path: str
    route_key: str | None
    status: int
    latency_ms: float
    request_id: str  # API Gateway's
    output_tokens: int | None
    request_body: str = field(repr=False)
    response_body: str = field(repr=False)
    response_type: str = ""
    location: str | None = None  # a job's URL (202)

    def summary(self) -> dict[str, Any]:
        """The feed's row: everything but the bodies."""
        row = asdict(self)
        del row["request_body"], row["response_body"]
        return row

    def answer(self) -> Any:
        """The answer as JSON when it is JSON, else its text."""
        try:
            return json.loads(self.response_body)
        except ValueError:
            return self.response_body


class RequestFeed:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: deque[FeedEntry] = deque(maxlen=max_entries)
        self._seq = 0
        self._changed = asyncio.Condition()

    async def record(self, served: Served) -> None:
        """The gateway's report of a request it answered (wired as its `on_served`)."""
        answer = _text(served.response_body)
        self._seq += 1
        self._entries.append(
            FeedEntry(
                self._seq,
                time.time(),
                served.method,
                served.path,
                served.route_key,
                served.status,
                round(served.latency_ms, 1),
                served.request_id,
                _output_tokens(answer),
                _text(served.request_body),
                answer,
                served.response_type,
                served.location,
            )
        )
        async with self._changed:
            self._changed.notify_all()

    async def after(self, seq: int, wait_s: float) -> list[FeedEntry]:
        """The entries after `seq`, oldest first; waits up to `wait_s` for one (long poll)."""
        newer = self._newer(seq)
        if newer or wait_s <= 0:
            return newer
        async with self._changed:
            try:
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: self._seq > seq), timeout=wait_s
                )
            except TimeoutError:
                return []
        return self._newer(seq)

    def find(self, request_id: str) -> FeedEntry | None:
        return next((e for e in self._entries if e.request_id == request_id), None)

    def recent(self, count: int) -> list[FeedEntry]:
        return list(self._entries)[-count:]

    def _newer(self, seq: int) -> list[FeedEntry]:
        return [entry for entry in self._entries if entry.seq > seq]


def _text(body: bytes) -> str:
    return body[:MAX_BODY_CHARS].decode("utf-8", "replace")


def _output_tokens(answer: str) -> int | None:
    """The model's output tokens, when the answer is the service's JSON with a `usage`."""
    try:
        usage = json.loads(answer).get("usage") or {}
    except (ValueError, AttributeError):
        return None
    tokens = usage.get("output_tokens") if isinstance(usage, dict) else None
    return tokens if isinstance(tokens, int) else None
