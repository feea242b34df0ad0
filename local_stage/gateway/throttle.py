"""Token buckets with API Gateway's (rate, burst) semantics, per stage and route."""

import time
from dataclasses import dataclass


@dataclass
class TokenBucket:
    rate: float  # tokens per second
    burst: int  # bucket size
    tokens: float = -1.0
    updated: float = 0.0

    def take(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        if self.tokens < 0:
            self.tokens, self.updated = float(self.burst), now
        self.tokens = min(float(self.burst), self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class Throttle:
    """One bucket per (api, stage, route); limits of 0 reject every request, as AWS does."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, str, str], TokenBucket] = {}

    def allow(self, key: tuple[str, str, str], rate: float | None, burst: int | None) -> bool:
        if rate is None and burst is None:
            return True
        rate = 0.0 if rate is None else float(rate)
        burst = 0 if burst is None else int(burst)
        bucket = self._buckets.get(key)
        if bucket is None or (bucket.rate, bucket.burst) != (rate, burst):
            bucket = self._buckets[key] = TokenBucket(rate, burst)
        return bucket.take()
