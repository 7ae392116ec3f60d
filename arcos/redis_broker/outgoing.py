"""The publishing side of the shared broker: committed events leave in order, in batches,
without a write ever waiting for Redis.

The relay hands events over in commit order while it holds its lock, so a Redis round
trip per event there would cap this instance's write rate at Redis's latency, and a Redis
that hangs would hang writes. Instead `put` only queues the encoded event; one task sends
what has queued, in order, as one PUBLISH per batch. If Redis refuses or is unreachable,
the batch is dropped and logged (once per outage): the events are in the outbox, and the
receiving instances notice the missing positions and end their subscriptions, whose
clients catch up from the store.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

logger = logging.getLogger("arcos.broker")

#: Encoded events queued beyond this are dropped (Redis is away or slower than writes).
MAX_PENDING = 10_000
#: A batch holds at most this many bytes of events (or one larger event alone).
MAX_BATCH_BYTES = 1 << 20


class Outgoing:
    """An ordered queue of encoded events and the task that publishes them."""

    def __init__(self, send: Callable[[bytes], Awaitable[object]]) -> None:
        self._send = send
        self._pending: deque[bytes] = deque()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._failing = False
        #: Events dropped because the queue was full or their batch could not be sent.
        self.dropped = 0

    def put(self, encoded: bytes) -> None:
        """Queue one event (a JSON object's bytes) for publication; never waits."""
        if len(self._pending) >= MAX_PENDING:
            self.dropped += 1
            if not self._failing:
                self._failing = True
                logger.warning("more than %s events wait for the shared broker; dropping "
                               "new ones (subscribers will catch up from the store)",
                               MAX_PENDING)
            return
        self._pending.append(encoded)
        self._idle.clear()
        self._wake.set()

    async def run(self) -> None:
        """Publish queued events until cancelled."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch = self._take_batch()
                try:
                    await self._send(b"[" + b",".join(batch) + b"]")
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    self.dropped += len(batch)
                    if not self._failing:
                        self._failing = True
                        logger.warning("publishing to the shared broker failed (%s); events "
                                       "are dropped until it answers again, and subscribers "
                                       "catch up from the store", error)
                else:
                    if self._failing:
                        self._failing = False
                        logger.warning("publishing to the shared broker works again")
            self._idle.set()

    async def flush(self) -> None:
        """Wait until everything queued so far was sent (or dropped)."""
        await self._idle.wait()

    def _take_batch(self) -> list[bytes]:
        batch = [self._pending.popleft()]
        size = len(batch[0])
        while self._pending and size + len(self._pending[0]) <= MAX_BATCH_BYTES:
            size += len(self._pending[0])
            batch.append(self._pending.popleft())
        return batch
