"""Publish/subscribe between the code that commits writes and the open subscriptions.

The interface is deliberately narrow (start, publish, subscribe, count, close) and events
are JSON-safe dicts, so the Redis-backed broker (arcos/redis_broker/) replaces the
in-process one without any caller changing. Topics are dotted strings owned by the
domains that publish them (`evidence.added`, `metrics.updated`); `channel` names a
filtered slice of one.

An event travels with the id of the request that committed it (arcos/request_id.py),
beside it and never inside it: a subscriber's handling of an event, from the moment its
iterator yields it until it asks for the next, runs under that id, so what it logs (and
what a shared watcher logs for it) can be traced to the write, on any instance.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Protocol

from arcos.request_id import serving

if TYPE_CHECKING:
    from arcos.settings import Settings

Event = dict[str, Any]
logger = logging.getLogger("arcos.broker")


def channel(topic: str, **filters: str | None) -> str:
    """The broker topic carrying the events of `topic` whose attributes equal `filters`
    (a None filter matches anything), so a filtered subscriber receives only its events
    instead of filtering every event in Python.

    The filters are encoded as JSON, so no value can make two different filters collide.
    """
    given = sorted((name, value) for name, value in filters.items() if value is not None)
    return topic if not given else f"{topic}{json.dumps(given, separators=(',', ':'))}"


def topic_of(name: str) -> str:
    """The topic a broker topic or one of its `channel`s belongs to (topics are dotted
    words; a channel adds its JSON filters)."""
    return name.partition("[")[0]


def channels(topic: str, **attributes: str | None) -> tuple[str, ...]:
    """Every narrower topic an event with `attributes` is published on besides `topic`:
    one per non-empty combination of its attributes (three for two attributes)."""
    known = sorted((name, value) for name, value in attributes.items() if value is not None)
    return tuple(
        channel(topic, **dict(subset))
        for size in range(1, len(known) + 1)
        for subset in itertools.combinations(known, size)
    )


class SubscriberTooSlow(Exception):
    """The subscriber let its queue fill up; it is cut off rather than silently skipped."""

    def __init__(self, topic: str, queue_size: int) -> None:
        super().__init__(
            f"subscription to {topic!r} fell more than {queue_size} events behind and was "
            "closed; subscribe again and re-read missed evidence with evidenceConnection"
        )


class BrokerUnavailable(Exception):
    """A shared broker cannot carry events now: a new subscription is refused, or an open
    one ends, with a message saying why and how the client recovers (catching up from the
    store, which holds every committed event)."""


def refused(problem: str) -> BrokerUnavailable:
    """The error refusing a new subscription while the broker is unusable (`problem` is
    what `unusable()` says)."""
    return BrokerUnavailable(
        f"live events are unavailable now: {problem}; retry shortly (queries and writes "
        "still work)"
    )


class Broker(Protocol):
    """What the rest of ARCOS needs from a broker."""

    async def start(self) -> None:
        """Connect (once the store is open: a shared broker reads the outbox)."""

    async def publish(
        self, topic: str, event: Event, channels: Sequence[str] = (),
        request_id: str | None = None,
    ) -> None:
        """Deliver `event` to every current subscriber of `topic` and of each of `channels`
        (its narrower topics), as one message, with the id of the request that committed
        it (subscribers handle it under that id)."""

    def subscribe(self, topic: str) -> Any:
        """An async context manager yielding an async iterator of events on `topic`; raises
        `BrokerUnavailable` (on entry or while iterating) when a shared broker cannot carry
        events."""

    def subscriber_count(self, topic: str | None = None) -> int:
        """Live subscriptions on `topic`, or on all topics."""

    async def close(self) -> None:
        """End every subscription; called when the server shuts down."""

    def unusable(self) -> str | None:
        """Why the broker cannot carry events now (for /readyz), or None when it can."""


class _Subscription:
    """One subscriber's bounded queue; overflow ends it with `SubscriberTooSlow`, `fail`
    with any other error."""

    _CLOSED = object()

    def __init__(self, topic: str, queue_size: int) -> None:
        self.topic = topic
        self.queue_size = queue_size
        self.queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=queue_size + 1)
        self.overflowed = False

    def offer(self, delivery: tuple[Event, str | None]) -> None:
        """Queue an event with its request id (one tuple shared by every subscriber)."""
        if self.overflowed:
            return
        if self.queue.qsize() >= self.queue_size:
            self.overflowed = True
            self.queue.put_nowait(SubscriberTooSlow(self.topic, self.queue_size))
            return
        self.queue.put_nowait(delivery)

    def close(self) -> None:
        self.fail(self._CLOSED)

    def fail(self, ending: Any) -> None:
        """End the subscription after what it has queued (with `ending` raised, unless it
        is the plain close); later events are not offered."""
        if not self.overflowed:
            self.overflowed = True
            self.queue.put_nowait(ending)

    async def events(self) -> AsyncIterator[Event]:
        """The events, each handled under its request's id (the reader's own id is back
        while it waits for the next)."""
        while True:
            item = await self.queue.get()
            if item is self._CLOSED:
                return
            if isinstance(item, Exception):
                raise item
            event, request_id = item
            with serving(request_id):
                yield event


class InMemoryBroker:
    """A broker for one process: each subscriber gets its own bounded asyncio queue."""

    def __init__(self, queue_size: int = 1000) -> None:
        self._queue_size = queue_size
        self._topics: dict[str, set[_Subscription]] = {}
        self._closed = False

    async def start(self) -> None:
        """Nothing to connect."""

    async def publish(
        self, topic: str, event: Event, channels: Sequence[str] = (),
        request_id: str | None = None,
    ) -> None:
        self.deliver(topic, event, channels, request_id)

    def deliver(
        self, topic: str, event: Event, channels: Sequence[str] = (),
        request_id: str | None = None,
    ) -> None:
        """Queue `event` for the subscribers of `topic` and `channels`, without waiting
        (the shared broker fans its events out through this). Logs one DEBUG line per
        event, under its request's id, for an operator following a write."""
        if logger.isEnabledFor(logging.DEBUG):
            with serving(request_id):
                logger.debug("delivering %s position %s of request %s", topic,
                             event.get("position"), request_id)
        delivery = (event, request_id)
        for name in (topic, *channels):
            for subscription in list(self._topics.get(name, ())):
                subscription.offer(delivery)

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[AsyncIterator[Event]]:
        subscription = _Subscription(topic, self._queue_size)
        self._topics.setdefault(topic, set()).add(subscription)
        try:
            yield subscription.events()
        finally:
            subscribers = self._topics.get(topic)
            if subscribers is not None:
                subscribers.discard(subscription)
                if not subscribers:
                    del self._topics[topic]

    def subscribed_to(self, topic: str) -> bool:
        """Whether anyone subscribes to `topic` or to one of its narrower channels."""
        return any(topic_of(name) == topic for name in self._topics)

    def subscriber_count(self, topic: str | None = None) -> int:
        if topic is not None:
            return len(self._topics.get(topic, ()))
        return sum(len(subscribers) for subscribers in self._topics.values())

    def unusable(self) -> str | None:
        return "the broker is closed: the server is shutting down" if self._closed else None

    async def close(self) -> None:
        self._closed = True
        for subscribers in self._topics.values():
            for subscription in subscribers:
                subscription.close()

    def fail_all(self, error: Exception, topics: Collection[str] | None = None) -> None:
        """End every open subscription with `error`, after what each has queued (the
        shared broker lost events, or its connection); with `topics`, only those on one of
        them or on one of their narrower channels."""
        for name, subscribers in self._topics.items():
            if topics is not None and topic_of(name) not in topics:
                continue
            for subscription in subscribers:
                subscription.fail(error)


def command_broker(settings: Settings) -> Broker:
    """The broker a one-off `arcos` command writes through: its own in-process one (nobody
    subscribes to it; servers on the same store read the events from the outbox), or, when
    instances share events through Redis, a publisher on their channel
    (arcos/redis_broker/command_publisher.py says why). Close it when the command ends."""
    if not settings.broker_url:
        return InMemoryBroker()
    from arcos.redis_broker.command_publisher import CommandPublisher  # with the client

    return CommandPublisher(settings)
