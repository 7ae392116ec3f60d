"""Following one topic of the outbox from inside a server process.

A reader that must see every committed event of a topic, including the ones other
processes committed (which this process's broker never hears of), reads the outbox instead
of subscribing: it is the one log every commit lands in, in commit order, and a reader that
falls behind loses nothing. Plugin triggers (`evidence.added`) and the principal cache
(`auth.token_revoked`) both follow it this way.

A follower starts at the newest position (what committed before it started is not its
business), polls for the events after its position a page at a time, hands each page to
its owner and only then moves past it, so a page whose handling fails is read again on the
next poll. An owner that often wants nothing (no plugin has triggers) gives `wanted`:
while it answers False, the follower moves past what has committed without reading or
decoding it. It reads the newest position before asking, so an event is skipped only if,
after it committed, its owner wanted nothing; once the owner wants events again (a trigger
added later), every event committed after that answer is read. A failing read is logged
and retried; the owner may react to it (the principal cache forgets everything it holds,
since it may have missed a revocation).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from arcos.store import outbox
from arcos.store.outbox import StoredEvent

logger = logging.getLogger("arcos.store")

PageHandler = Callable[[list[StoredEvent]], Awaitable[None]]


class OutboxFollower:
    """Reads `topic`'s events committed after `position`, every `poll_seconds`."""

    def __init__(
        self, topic: str, handle: PageHandler, *, poll_seconds: float, name: str,
        on_failure: Callable[[], None] | None = None, page: int = 200,
        wanted: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        self.topic = topic
        self.handle = handle
        self.poll_seconds = poll_seconds
        self.name = name
        self.on_failure = on_failure
        self.page = page
        self.wanted = wanted
        #: The position of the last event handled.
        self.position = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Follow what commits from now on."""
        self.position = await outbox.latest_position()
        self._task = asyncio.create_task(self._follow(), name=self.name)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def read_new(self) -> None:
        """Hand over every page committed after `position`, moving past each once handled
        (or past everything committed so far, unread, when the owner wants nothing)."""
        if self.wanted is not None:
            latest = await outbox.latest_position()  # before asking: see the module doc
            if latest <= self.position:
                return
            if not await self.wanted():
                self.position = latest
                return
        while events := await outbox.read_after(self.topic, self.position, self.page):
            await self.handle(events)
            self.position = events[-1].position

    async def _follow(self) -> None:
        while True:
            try:
                await self.read_new()
            except asyncio.CancelledError:
                raise
            except Exception:  # the store may be briefly unavailable; keep following
                if self.on_failure is not None:
                    self.on_failure()
                logger.exception("%s could not read %s from the outbox", self.name, self.topic)
            await asyncio.sleep(self.poll_seconds)
