"""State several ARCOS instances share through the Redis of ARCOS_BROKER_URL, other than
events (arcos/broker.py): the connection with its outage handling (redis_state.py),
epochs that tell every instance its cache may be stale (epoch.py) and the rule by which a
cache trusts an entry under them (epoch_gate.py). Rate limits built on
it live with access control (arcos/auth/redis_rate_limit.py).

The redis client is imported only where a Redis is configured (redis_state.py, reached
through `shared_redis`): importing it costs about a third of a second, which the embedded
two-command start of one `arcos serve` on SQLite would pay for nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from arcos.settings import Settings
    from arcos.shared_state.redis_state import SharedRedis


class RedisUnavailable(Exception):
    """Redis did not answer (or is being left alone after it did not); the caller decides
    what that means for it."""


def shared_redis(settings: Settings) -> SharedRedis | None:
    """The shared-state client when ARCOS_BROKER_URL names a Redis, else None (one
    process: nothing to share, and the redis client is not even imported)."""
    if not settings.broker_url:
        return None
    from arcos.redis_broker.naming import deployment_key
    from arcos.shared_state.redis_state import SharedRedis

    prefix = settings.redis_key_prefix or f"{deployment_key(settings)}:"
    return SharedRedis(settings.broker_url, prefix)
