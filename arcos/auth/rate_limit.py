"""Per-principal write rate limiting.

A token bucket per principal, kept in process: the limiter of one `arcos serve`. The
interface is one coroutine so the Redis-backed limiter that several instances share
(arcos/auth/redis_rate_limit.py, chosen when ARCOS_BROKER_URL names a Redis) can replace it
without callers changing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol


class WriteRateLimiter(Protocol):
    async def acquire(self, principal: str) -> float | None:
        """Take one write from `principal`'s allowance: None if allowed, else the seconds
        until a write would be allowed."""


@dataclass
class _Bucket:
    tokens: float
    updated: float


class InMemoryTokenBucket:
    """`rate_per_minute` sustained writes, bursts of up to `burst`."""

    def __init__(self, rate_per_minute: int, burst: int) -> None:
        self.rate_per_second = rate_per_minute / 60.0
        self.burst = float(burst)
        self._now = time.monotonic
        self._buckets: dict[str, _Bucket] = {}

    async def acquire(self, principal: str) -> float | None:
        now = self._now()
        bucket = self._buckets.get(principal)
        if bucket is None:
            bucket = self._buckets[principal] = _Bucket(tokens=self.burst, updated=now)
        refill = (now - bucket.updated) * self.rate_per_second
        bucket.tokens = min(self.burst, bucket.tokens + refill)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return (1.0 - bucket.tokens) / self.rate_per_second
