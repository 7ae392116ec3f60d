"""Per-principal write rate limiting shared by every instance through Redis: a
principal's budget is one per deployment, however many instances its writes reach.

The same token bucket as the in-process one (arcos/auth/rate_limit.py), kept in one Redis
hash per principal and updated by a Lua script, so concurrent writes through different
instances cannot both spend the last token. The script uses Redis's clock, not the
instances' (which may disagree), and lets the key expire once the bucket would be full
again: an idle principal leaves nothing behind.

When Redis is unreachable the limiter fails open, to the instance's own in-process bucket,
with a warning logged when the outage starts (arcos/shared_state/redis_state.py). A rate
limit protects capacity, not correctness: refusing every write because Redis is down
would turn a Redis outage into a write outage (which the deployment promises never
happens), while the local bucket still bounds each principal per instance, to at most the
number of instances times its budget, until Redis answers again.
"""

from __future__ import annotations

from arcos.auth.rate_limit import InMemoryTokenBucket
from arcos.shared_state import RedisUnavailable
from arcos.shared_state.redis_state import SharedRedis

#: KEYS[1]: the bucket; ARGV: rate per second, burst. Returns the seconds to wait ("0":
#: allowed) as a string, since Redis turns Lua numbers into integers.
_ACQUIRE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(state[1])
local updated = tonumber(state[2])
if tokens == nil or updated == nil then
  tokens = burst
  updated = now
end
tokens = math.min(burst, tokens + math.max(0, now - updated) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
return tostring(wait)
"""


class RedisTokenBucket:
    """`rate_per_minute` sustained writes, bursts of up to `burst`, per principal and
    deployment; the in-process bucket while Redis is unreachable."""

    def __init__(self, shared: SharedRedis, rate_per_minute: int, burst: int) -> None:
        self.shared = shared
        self.rate_per_second = rate_per_minute / 60.0
        self.burst = burst
        self.fallback = InMemoryTokenBucket(rate_per_minute, burst)
        self._script = shared.client.register_script(_ACQUIRE)

    async def acquire(self, principal: str) -> float | None:
        key = self.shared.key(f"rate:{principal}")
        try:
            wait = await self.shared.run(
                lambda client: self._script(
                    keys=[key], args=[repr(self.rate_per_second), self.burst], client=client
                )
            )
        except RedisUnavailable:
            return await self.fallback.acquire(principal)
        seconds = float(wait)
        return seconds if seconds > 0 else None
