"""Publishes committed outbox messages to the broker in position (= commit) order.

Subscribers drop an event whose position is at or before the last one they saw (that is
how a catch-up read and the live stream join without repeats), so a subscriber must never
receive position 6 before position 5. Two writers of this process may finish in either
order after their commits, so publication cannot simply follow the hand-offs: each
position is *reserved* as soon as its row is written (before the commit), and a committed
message is published only once no smaller reserved position is still in flight. A
position that rolls back is released and never waited for again.

Each message is published with the request id it was committed under (its own, not that
of whichever writer's task happens to publish it).

Positions written by other processes are not in flight here; their subscribers read them
from the outbox, and with the shared broker from Redis, whose receiving side puts every
instance's positions back in order (arcos/redis_broker/sequencer.py).
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from collections.abc import Iterable

from arcos.broker import Broker
from arcos.store.outbox import Message

logger = logging.getLogger("arcos.store")


class Relay:
    """The ordered bridge from committed transactions to one broker."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self._in_flight: set[int] = set()
        self._ready: list[tuple[int, int, Message]] = []  # heap of (position, tiebreak, message)
        self._count = 0
        # One publisher at a time: a broker whose publish awaits (Redis) must not let a
        # later position overtake an earlier one.
        self._publishing = asyncio.Lock()

    def reserve(self, messages: Iterable[Message]) -> None:
        """Mark positions written but not yet committed; call before the commit."""
        for message in messages:
            assert message.position is not None
            self._in_flight.add(message.position)

    async def committed(self, messages: Iterable[Message]) -> None:
        """The transaction holding `messages` committed: publish every message whose
        predecessors are settled."""
        for message in messages:
            assert message.position is not None
            self._in_flight.discard(message.position)
            self._count += 1
            heapq.heappush(self._ready, (message.position, self._count, message))
        await self._publish_ready()

    async def abandoned(self, messages: Iterable[Message]) -> None:
        """The transaction rolled back: its positions will never commit."""
        for message in messages:
            if message.position is not None:
                self._in_flight.discard(message.position)
        await self._publish_ready()

    async def _publish_ready(self) -> None:
        async with self._publishing:
            while self._ready:
                position = self._ready[0][0]
                if self._in_flight and min(self._in_flight) < position:
                    return  # an earlier writer has not committed; it publishes this too
                _, _, message = heapq.heappop(self._ready)
                await self._publish(message)

    async def _publish(self, message: Message) -> None:
        event = {**message.event, "position": message.position}
        try:
            await self.broker.publish(message.topic, event, message.channels,
                                      message.request_id)
        except Exception:  # a broker failure must not fail a committed write
            logger.exception("publishing outbox position %s failed", message.position)

    @property
    def pending(self) -> int:
        """Committed messages waiting for an earlier writer (for tests and health)."""
        return len(self._ready)
