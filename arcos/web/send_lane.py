"""Large websocket messages take turns, so that other clients keep their latency.

One large event reaches every subscriber at once. Encoded once, each delivery still costs a
few copies of the message (the splice, UTF-8 encoding, framing, the transport's buffer):
milliseconds for a 4 MB message, all synchronous. Every subscriber's task became ready at
the same moment and the event loop runs ready tasks first come, first served, so each step
of a /healthz request waited behind all of them: 200 subscribers of one 4.4 MB event kept
it waiting 3.5 s. Now a message above `LARGE_MESSAGE_BYTES` is sent only while holding the
process's one lane (a first-come semaphore), held through one pass of the event loop after
the send: the other large senders wait for their turn off the ready queue, and between two
large sends the loop runs whatever else is ready, so another client waits for one large
send at a time, not for all of them.

The lane covers only the CPU part of a send, which under `arcos serve`'s websocket protocol
does not suspend. A socket whose transport buffer is full (a slow reader) waits for it to
drain *before* queueing for the lane, and gives its turn back if its buffer filled again
while it queued, so a slow consumer never holds the lane; it is cut off as before when its
subscriber queue (ARCOS_SUBSCRIBER_QUEUE_SIZE) overflows. (Under another ASGI server the
writable event is not exposed, the lane is held for the whole send, and a slow reader can
hold it until its buffer drains.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

#: Messages from this size (characters of JSON) on take the lane; smaller ones cost less
#: than the bookkeeping would save.
LARGE_MESSAGE_BYTES = 64 * 1024


class SendLane:
    """One process's lane for large outgoing websocket messages."""

    def __init__(self, threshold: int = LARGE_MESSAGE_BYTES) -> None:
        self.threshold = threshold
        self._turns = asyncio.Semaphore(1)

    async def send(
        self, size: int, send: Callable[[], Awaitable[None]],
        writable: asyncio.Event | None = None,
    ) -> None:
        """Run `send()` for a message of `size`: at once when it is small, otherwise in
        turn, and only while the socket's transport accepts writes (`writable`, when the
        server exposes it)."""
        if size < self.threshold:
            await send()
            return
        while True:
            if writable is not None:
                await writable.wait()
            async with self._turns:
                if writable is None or writable.is_set():
                    await send()
                    # Keep the turn through one pass of the loop: the other large senders
                    # that became ready with this one queue for the lane meanwhile instead
                    # of sending back to back, and everything else that is ready runs.
                    await asyncio.sleep(0)
                    return
