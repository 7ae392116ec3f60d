"""A value in Redis that changes whenever something a cache holds may have become wrong
(a token revoked, a webhook secret set), read by every instance before it trusts a hit.

Why an epoch checked on the request path rather than a pub/sub message: a message can
arrive after the other instance has already served the next request with its cache; a
read of the epoch cannot, since the writer changes it (after its commit) before its own
response leaves. An entry remembers the epoch read before the store was read for it, so
an entry read before a change is never trusted after it. Every change makes every
instance re-read what it cached, which is cheap because changes are rare.

Each change writes a new random value rather than incrementing a counter, and a read that
finds no value (a new deployment, or a Redis restarted without its data) first sets a new
random one, so an entry's epoch can never come round again. `read` answers None when
Redis is unreachable: callers then trust nothing cached. How a cache applies all this is
one rule for every cache (epoch_gate.py).
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING

from arcos.shared_state import RedisUnavailable

if TYPE_CHECKING:
    from arcos.shared_state.redis_state import SharedRedis

logger = logging.getLogger("arcos.shared_state")

class SharedEpoch:
    """The epoch called `name` of one deployment."""

    def __init__(self, shared: SharedRedis, name: str) -> None:
        self.shared = shared
        self.key = shared.key(f"epoch:{name}")

    async def read(self) -> str | None:
        """The current epoch; None when Redis cannot say (trust no cache then)."""
        try:
            value = await self.shared.run(lambda client: client.get(self.key))
            if value is None:
                # Never written, or lost with Redis's data: a value no entry can hold
                # (another instance's, when it set one first).
                fresh = uuid.uuid4().hex
                if await self.shared.run(lambda client: client.set(self.key, fresh, nx=True)):
                    return fresh
                value = await self.shared.run(lambda client: client.get(self.key))
        except RedisUnavailable:
            return None
        return value.decode() if value is not None else None

    async def change(self) -> None:
        """Announce a change to every instance. When Redis is unreachable the change is
        logged and not announced: the outbox followers still bring it to every instance
        within their poll interval."""
        try:
            await self.shared.run(lambda client: client.set(self.key, uuid.uuid4().hex),
                                  even_if_resting=True)
        except RedisUnavailable:
            logger.warning("could not announce a change of %s through Redis; other instances "
                           "learn of it from the outbox instead", self.key)
