"""The broker of a one-off `arcos` command (`import`, `token revoke`) in a deployment that
shares its events through Redis.

A command writes through the same units of work and outbox as a server, but holds no
subscribers. If it published nowhere, the servers' sequencers would find its committed
positions missing from the shared channel and, after their wait, end every subscription to
those topics as if Redis had lost events (an `arcos import` while dashboards watch
`evidenceAdded` would cut them all off). So a command publishes what it commits on the
deployment's channel, in the format the servers read, batched as a server's relay does
(arcos/redis_broker/outgoing.py: an import of thousands of items is not a round trip per
item), and `close` waits until what was queued has gone out, so its events leave before
the command exits. A failure is logged and the write stands; the servers then treat the
positions as lost.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from redis.asyncio import Redis

from arcos.broker import Event, refused
from arcos.redis_broker.broker import PUBLISH_TIMEOUT_SECONDS, encoded_envelope
from arcos.redis_broker.naming import events_channel
from arcos.redis_broker.outgoing import Outgoing
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
        self._outgoing = Outgoing(self._send)
        self._sender: asyncio.Task[None] | None = None

    async def _send(self, batch: bytes) -> None:
        await self._redis.publish(self.channel, batch)

    async def publish(
        self, topic: str, event: Event, channels: Sequence[str] = (),
        request_id: str | None = None,
    ) -> None:
        """Queue `event`; a command has no request, so `request_id` is normally None."""
        if self._sender is None:
            self._sender = asyncio.create_task(self._outgoing.run(), name="command-publisher")
        self._outgoing.put(encoded_envelope(topic, event, channels, request_id))

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[AsyncIterator[Event]]:
        raise refused("a command's broker only publishes; subscribe on a server")
        yield  # pragma: no cover - makes this an async generator

    def subscriber_count(self, topic: str | None = None) -> int:
        return 0

    def unusable(self) -> str | None:
        return None

    async def close(self) -> None:
        """Send what is queued (waiting at most twice the publish timeout), then
        disconnect."""
        if self._sender is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._outgoing.flush(), 2 * PUBLISH_TIMEOUT_SECONDS)
            self._sender.cancel()
            await asyncio.gather(self._sender, return_exceptions=True)
        await self._redis.aclose()
