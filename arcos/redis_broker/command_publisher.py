"""The broker of a one-off `arcos` command (`import`, `token revoke`) in a deployment that
shares its events through Redis.

A command writes through the same units of work and outbox as a server, but holds no
subscribers. If it published nowhere, the servers' sequencers would find its committed
positions missing from the shared channel and, after their wait, end every subscription to
those topics as if Redis had lost events (an `arcos import` while dashboards watch
`evidenceAdded` would cut them all off). So a command publishes what it commits on the
deployment's channel, in the format the servers read, and waits for each PUBLISH: a
command is short, and its events should be out before it exits. A failure is logged and
the write stands (the relay catches it); the servers then treat the positions as lost.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from redis.asyncio import Redis

from arcos.broker import Event, refused
from arcos.redis_broker.broker import PUBLISH_TIMEOUT_SECONDS, encoded_envelope
from arcos.redis_broker.naming import events_channel
from arcos.settings import Settings


class CommandPublisher:
    """Publishes a command's committed events to the deployment's channel; nothing
    subscribes through it."""

    def __init__(self, settings: Settings) -> None:
        self.channel = events_channel(settings)
        self._redis = Redis.from_url(
            settings.broker_url, socket_timeout=PUBLISH_TIMEOUT_SECONDS,
            socket_connect_timeout=PUBLISH_TIMEOUT_SECONDS,
        )

    async def publish(self, topic: str, event: Event, channels: Sequence[str] = ()) -> None:
        await self._redis.publish(self.channel, b"[" + encoded_envelope(topic, event, channels)
                                  + b"]")

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[AsyncIterator[Event]]:
        raise refused("a command's broker only publishes; subscribe on a server")
        yield  # pragma: no cover - makes this an async generator

    def subscriber_count(self, topic: str | None = None) -> int:
        return 0

    def unusable(self) -> str | None:
        return None

    async def close(self) -> None:
        await self._redis.aclose()
