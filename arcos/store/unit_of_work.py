"""The one write path: a unit of work owns the transaction, the retry on a unique
conflict, the rows every domain adds in it, and what is published after the commit.

A domain write is a coroutine `work(unit)` that writes through `unit.connection` and
calls `unit.publish(message)` for each event. `Writer.run` runs it in a transaction,
appends the messages to the outbox in that same transaction (see arcos/store/outbox.py),
commits, and only then hands them to the relay, so a subscriber never hears of a write
that rolled back and a committed write is never without its event.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from arcos.broker import Broker, command_broker
from arcos.problems import ProblemCode, Refused
from arcos.request_id import current_request_id
from arcos.store.outbox import Message, append
from arcos.store.relay import Relay

if TYPE_CHECKING:
    from arcos.settings import Settings

T = TypeVar("T")
logger = logging.getLogger("arcos.store")
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class UnitOfWork:
    """One transaction in progress: where to write, its timestamp, what it will publish."""

    def __init__(
        self, connection: BaseDBAsyncClient, now: datetime, topics: frozenset[str] | None
    ) -> None:
        self.connection = connection
        #: One timestamp for every row of the unit, so they agree.
        self.now = now
        self.messages: list[Message] = []
        #: The request the unit writes for (None for a command); its messages carry it.
        self.request_id = current_request_id()
        self._topics = topics

    def publish(self, message: Message) -> None:
        """Publish `message` if (and once) this unit commits; its topic must be one a
        registered domain declares (a typo would otherwise reach no subscriber, silently)."""
        if self._topics is not None and message.topic not in self._topics:
            raise ValueError(
                f"no registered domain declares the topic {message.topic!r}; add it to the "
                "domain's `topics` in its domain.py"
            )
        message.request_id = self.request_id
        self.messages.append(message)


#: What a writer does when its unit keeps hitting a unique index another request won.
ConflictHandler = Callable[[IntegrityError], Awaitable[T]]
#: Told of a topic's committed messages before `run` returns (see `Writer.on_commit`); a
#: coroutine listener is awaited.
CommitListener = Callable[[Sequence[Message]], Awaitable[None] | None]


class Writer:
    """Runs units of work for one app; owns the relay to its broker and its clock."""

    def __init__(
        self, broker: Broker, topics: frozenset[str] | None = None, clock: Clock = utc_now
    ) -> None:
        """`topics`: those units may publish (the registry's); None allows any (tests)."""
        self.relay = Relay(broker)
        self.topics = topics
        self.clock = clock
        self._listeners: dict[str, list[CommitListener]] = {}

    def on_commit(self, topic: str, listener: CommitListener) -> None:
        """Call `listener` with this writer's committed messages on `topic`, right after
        the commit and before `run` returns.

        For state of this process that must not outlive the write by even one request
        (a cached principal whose token was just revoked): the broker may deliver later,
        since the relay holds a message back while an earlier writer is still committing
        and a subscriber's queue is read when its task next runs. The listener must not
        block; an exception it raises is logged, never the write's failure. A listener
        that returns an awaitable is awaited: for news that must leave this process before
        the write's caller hears back (arcos/shared_state/epoch.py), bounded by its own
        timeout.
        """
        self._listeners.setdefault(topic, []).append(listener)

    @property
    def broker(self) -> Broker:
        return self.relay.broker

    async def run(
        self,
        work: Callable[[UnitOfWork], Awaitable[T]],
        *,
        retries: int = 1,
        on_conflict: ConflictHandler[T] | None = None,
    ) -> T:
        """Run `work` in a transaction and publish its messages after the commit.

        A unique index refusing a row means a concurrent request committed it first and
        this transaction rolled back as a whole: `work` runs again (it re-reads what it
        depends on) up to `retries` times; after that `on_conflict` decides, or the write
        is refused as a CONFLICT the client may retry.
        """
        attempt = 0
        while True:
            try:
                return await self._once(work)
            except IntegrityError as conflict:
                if attempt < retries:
                    attempt += 1
                    continue
                if on_conflict is not None:
                    return await on_conflict(conflict)
                raise Refused.one(
                    None, "other requests are writing the same records at the same time; "
                    "retry", ProblemCode.CONFLICT,
                ) from None

    async def _once(self, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        unit: UnitOfWork | None = None
        try:
            async with in_transaction() as connection:
                unit = UnitOfWork(connection, self.clock(), self.topics)
                result = await work(unit)
                await append(connection, unit.messages, unit.now)
                self.relay.reserve(unit.messages)
        except BaseException:
            if unit is not None:
                await self.relay.abandoned(unit.messages)
            raise
        if unit.messages and logger.isEnabledFor(logging.DEBUG):
            logger.debug("committed; publishing %s", ", ".join(sorted(
                {message.topic for message in unit.messages})))
        awaiting = self._tell_listeners(unit.messages) if self._listeners else []
        try:
            await self.relay.committed(unit.messages)
        finally:
            # After the relay has its messages, so a slow announcement (a Redis round
            # trip) never holds back the publication of later writes.
            for topic, told in awaiting:
                try:
                    await told
                except Exception:  # the write committed; its caller must hear so
                    logger.exception("a commit listener on %r failed", topic)
        return result

    def _tell_listeners(
        self, messages: Sequence[Message]
    ) -> list[tuple[str, Awaitable[None]]]:
        """Tell each listener its topic's messages; returns what they want awaited."""
        awaiting: list[tuple[str, Awaitable[None]]] = []
        for topic, listeners in self._listeners.items():
            mine = [message for message in messages if message.topic == topic]
            if not mine:
                continue
            for listener in listeners:
                try:
                    told = listener(mine)
                except Exception:  # the write committed; its caller must hear so
                    logger.exception("a commit listener on %r failed", topic)
                    continue
                if told is not None:
                    awaiting.append((topic, told))
        return awaiting


@asynccontextmanager
async def command_writer(settings: Settings, topics: Collection[str]) -> AsyncIterator[Writer]:
    """The write path of a one-off `arcos` command: units of work and the outbox, as in the
    server, over the command's broker (`arcos.broker.command_broker`), which is closed (its
    events sent) when the block ends. Only `topics` may be published."""
    broker = command_broker(settings)
    try:
        yield Writer(broker, frozenset(topics))
    finally:
        await broker.close()
