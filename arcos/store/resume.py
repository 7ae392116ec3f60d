"""Resuming a subscription after a position: what the outbox holds, then the live stream.

The live stream is opened first and buffers while the stored events are read, so an event
committed during the read arrives live; one that arrives both ways is dropped by position.
That is sound because positions are in commit order (see arcos/store/outbox.py): every
position below one a subscriber has seen was committed before it, and so was either in
the read or published to the already open stream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")

#: One page of stored events after a position: the last position it examined (None when
#: there was nothing after) and the items among them the subscriber wants, with positions.
CatchUpPage = tuple[int | None, list[tuple[int, T]]]


async def follow_after(
    live: AsyncIterator[dict[str, Any]],
    after: int,
    catch_up: Callable[[int], Awaitable[CatchUpPage[T]]],
) -> AsyncIterator[T | dict[str, Any]]:
    """Stored items after `after`, oldest first, then live events not yet delivered."""
    last = after
    while True:
        scanned, items = await catch_up(last)
        if scanned is None:
            break
        for _, item in items:
            yield item
        last = scanned
    async for event in live:
        position = event["position"]
        if position <= last:
            continue
        last = position
        yield event
