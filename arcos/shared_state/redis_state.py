"""One Redis connection pool per app for shared state, with keys under one prefix and a
short memory of outages.

Every call has a short timeout and is tried once: the callers are on a request's path,
and each decides for itself what an unreachable Redis means (a rate limit fails open, a
revocation check fails closed). After a failure Redis is not asked again for
`retry_after` seconds, so an outage costs each request nothing rather than a timeout,
and it is logged once when it starts and once when it ends, not per request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from arcos.settings import redacted_url
from arcos.shared_state import RedisUnavailable

logger = logging.getLogger("arcos.shared_state")
T = TypeVar("T")

#: Longest a shared-state call may take before it counts as Redis being unreachable.
CALL_TIMEOUT_SECONDS = 0.5
#: How long after a failure Redis is left alone before it is tried again.
RETRY_AFTER_SECONDS = 1.0


class SharedRedis:
    """The app's client for shared state: `key(name)` names a key of this deployment,
    `run(call)` runs one call or raises RedisUnavailable. Built by
    `arcos.shared_state.shared_redis` when a Redis is configured."""

    def __init__(
        self, url: str, prefix: str, timeout: float = CALL_TIMEOUT_SECONDS,
        retry_after: float = RETRY_AFTER_SECONDS,
    ) -> None:
        self.url = url
        self.prefix = prefix
        self.retry_after = retry_after
        self.client: redis.Redis = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0), retry_on_error=[],
        )
        self._down_until: float | None = None

    def key(self, name: str) -> str:
        return self.prefix + name

    async def run(
        self, call: Callable[[redis.Redis], Awaitable[T]], *, even_if_resting: bool = False
    ) -> T:
        """`call(client)`'s result; RedisUnavailable when it fails or Redis is resting.

        `even_if_resting` tries anyway (announcing a revocation is worth a timeout). Only a
        connection that fails or times out makes Redis rest: a command Redis answers with
        an error (a script refused by a read-only replica) says Redis is there."""
        if (not even_if_resting and self._down_until is not None
                and time.monotonic() < self._down_until):
            raise RedisUnavailable("Redis was unreachable moments ago")
        try:
            result = await call(self.client)
        except (redis.ConnectionError, redis.TimeoutError, OSError) as failure:
            if self._down_until is None:
                logger.warning("shared state: Redis at %s is unreachable (%s); retrying every "
                               "%.1f s", redacted_url(self.url), failure, self.retry_after)
            self._down_until = time.monotonic() + self.retry_after
            raise RedisUnavailable(str(failure)) from failure
        except redis.RedisError as failure:
            logger.warning("shared state: Redis at %s refused a command (%s)",
                           redacted_url(self.url), failure)
            raise RedisUnavailable(str(failure)) from failure
        if self._down_until is not None:
            logger.warning("shared state: Redis at %s is reachable again",
                           redacted_url(self.url))
            self._down_until = None
        return result

    async def close(self) -> None:
        await self.client.aclose()
