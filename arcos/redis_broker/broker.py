"""The shared broker: every instance's committed events reach every instance's subscribers
through one Redis pub/sub channel.

Each relay publishes each committed event once (arcos/redis_broker/outgoing.py) on the
deployment's channel (arcos/redis_broker/naming.py), carrying its topic, its narrower
channels, the time it was handed over and the id of the request that committed it (so the
fan-out and every subscriber on every instance log under that id). Each instance holds
one subscriber connection; what arrives passes through a sequencer (commit order
restored, gaps resolved against the outbox) and is then fanned out to this instance's
subscribers by an `InMemoryBroker`, with its bounded per-subscriber queues. An instance
hears its own events back from Redis, so each is delivered once, in the same order as
everyone else's.

When the connection drops, every open subscription ends with `BrokerUnavailable` (its
client subscribes again and catches up from the store), new subscriptions are refused with
the same error, `unusable()` says so for /readyz, and the connection is re-established with
capped exponential backoff. Writes never notice: publishing only queues.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from arcos.broker import BrokerUnavailable, Event, InMemoryBroker, refused
from arcos.metrics import BROKER_LAG
from arcos.redis_broker.naming import events_channel
from arcos.redis_broker.outgoing import Outgoing
from arcos.redis_broker.sequencer import Sequencer
from arcos.request_id import carried_request_id
from arcos.settings import Settings, redacted_url
from arcos.store import outbox

logger = logging.getLogger("arcos.broker")

#: Reconnection waits start here and double after each failure, up to BACKOFF_CAP.
BACKOFF_FIRST_SECONDS = 0.1
BACKOFF_CAP_SECONDS = 5.0
#: How long connecting (and subscribing) may take before the attempt counts as failed.
CONNECT_TIMEOUT_SECONDS = 3.0
#: An idle subscriber connection pings Redis this often; three silent intervals mean the
#: connection is gone even if no socket error said so.
PING_SECONDS = 5.0
#: How long a publish may wait for Redis before its batch is dropped.
PUBLISH_TIMEOUT_SECONDS = 5.0

#: What a client reads when its subscription ends or is refused, after the reason.
RECOVER = ("subscribe again to resume: subscriptions that take `after` (and SSE with "
           "Last-Event-ID) catch up from the store, which holds every committed event")


def encoded_envelope(
    topic: str, event: Event, channels: Sequence[str], request_id: str | None = None
) -> bytes:
    """One event as it travels on the deployment's channel: its topic, its narrower
    channels, when it was handed over (for the lag metric) and the request that committed
    it (None for a command's). Messages on the channel are JSON lists of these (a batch),
    whoever publishes them."""
    return orjson.dumps(
        {"topic": topic, "channels": list(channels), "event": event, "at": time.time(),
         "request_id": request_id},
        option=orjson.OPT_NON_STR_KEYS,
    )


class _Arrival:
    """One event as it came from Redis, until the sequencer lets it out."""

    __slots__ = ("at", "channels", "event", "request_id", "topic")

    def __init__(self, topic: str, channels: Sequence[str], event: Event, at: float,
                 request_id: str | None) -> None:
        self.topic = topic
        self.channels = channels
        self.event = event
        self.at = at
        self.request_id = request_id


class RedisBroker:
    """The broker of a deployment of several instances (ARCOS_BROKER_URL=redis://…)."""

    def __init__(
        self, settings: Settings, *, gap_seconds: float = 0.05, lost_seconds: float = 2.0
    ) -> None:
        self.url = settings.broker_url
        self.channel = events_channel(settings)
        self._local = InMemoryBroker(queue_size=settings.subscriber_queue_size)
        self._sequencer: Sequencer[_Arrival] = Sequencer(
            self._fan_out, outbox.topics_between, self._lost,
            wanted=self._local.subscribed_to, gap_seconds=gap_seconds,
            lost_seconds=lost_seconds,
        )
        options: dict[str, Any] = {
            "socket_connect_timeout": CONNECT_TIMEOUT_SECONDS,
            # The broker reconnects itself: a silent reconnect inside the client would hide
            # the events published while it was away.
            "retry": Retry(NoBackoff(), 0),
        }
        self._publisher = Redis.from_url(
            self.url, socket_timeout=PUBLISH_TIMEOUT_SECONDS, **options
        )
        self._subscriber = Redis.from_url(self.url, **options)
        self._outgoing = Outgoing(self._send)
        self._tasks: list[asyncio.Task[None]] = []
        self._connected = False
        self._closed = False
        self._attempted = asyncio.Event()
        #: Why the broker is unusable now (None once connected).
        self._problem: str | None = "not connected to the shared event broker (Redis) yet"

    async def start(self) -> None:
        """Start publishing and connecting; returns once the first connection attempt
        succeeded or failed (the server serves either way, and /readyz tells which)."""
        self._tasks = [
            asyncio.create_task(self._outgoing.run(), name="broker-publisher"),
            asyncio.create_task(self._follow_forever(), name="broker-subscriber"),
        ]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._attempted.wait(), CONNECT_TIMEOUT_SECONDS * 2)

    async def publish(
        self, topic: str, event: Event, channels: Sequence[str] = (),
        request_id: str | None = None,
    ) -> None:
        """Queue `event` (which must carry its outbox `position`) for every instance."""
        if not isinstance(event.get("position"), int):
            raise ValueError("the shared broker carries outbox events only: the event has "
                             "no integer `position`")
        self._outgoing.put(encoded_envelope(topic, event, channels, request_id))

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[AsyncIterator[Event]]:
        problem = self.unusable()
        if problem is not None:
            raise refused(problem)
        async with self._local.subscribe(topic) as events:
            yield events

    def subscriber_count(self, topic: str | None = None) -> int:
        return self._local.subscriber_count(topic)

    def unusable(self) -> str | None:
        if self._closed:
            return "the broker is closed: the server is shutting down"
        return self._problem

    async def close(self) -> None:
        """Send what is queued (briefly), end every subscription and disconnect."""
        self._closed = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._outgoing.flush(), 2.0)
        self._sequencer.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._local.close()
        for client in (self._publisher, self._subscriber):
            with contextlib.suppress(Exception):
                await client.aclose()

    async def _send(self, batch: bytes) -> None:
        await self._publisher.publish(self.channel, batch)

    async def _follow_forever(self) -> None:
        """Hold the subscriber connection, re-establishing it with capped backoff."""
        delay = BACKOFF_FIRST_SECONDS
        while True:
            try:
                await self._follow()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self._disconnected(error)
            if self._connected:
                delay = BACKOFF_FIRST_SECONDS
            self._connected = False
            self._attempted.set()
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_CAP_SECONDS)

    async def _follow(self) -> None:
        """One connection: subscribe, start the sequencer at the outbox's newest position,
        then hand over what arrives until the connection fails."""
        pubsub: PubSub = self._subscriber.pubsub()
        try:
            await asyncio.wait_for(self._subscribed(pubsub), CONNECT_TIMEOUT_SECONDS)
            # Subscribed first, read second: a position above this one commits after the
            # read, so it is published after the subscription was in place.
            self._sequencer.start(await outbox.latest_position())
            self._connected = True
            if self._attempted.is_set():
                logger.warning("connected to the shared event broker %s again",
                               redacted_url(self.url))
            self._problem = None
            self._attempted.set()
            await self._receive(pubsub)
        finally:
            self._sequencer.stop()
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def _subscribed(self, pubsub: PubSub) -> None:
        await pubsub.subscribe(self.channel)
        while True:
            message = await pubsub.get_message(timeout=CONNECT_TIMEOUT_SECONDS)
            if message is not None and message["type"] == "subscribe":
                return

    async def _receive(self, pubsub: PubSub) -> None:
        loop = asyncio.get_running_loop()
        heard = loop.time()
        while True:
            message = await pubsub.get_message(timeout=PING_SECONDS)
            if message is None:
                if loop.time() - heard > 3 * PING_SECONDS:
                    raise ConnectionError(f"Redis did not answer for {3 * PING_SECONDS:g} s")
                await pubsub.ping()
                continue
            heard = loop.time()
            if message["type"] == "message":
                self._arrived(message["data"])

    def _arrived(self, data: bytes) -> None:
        try:
            batch = orjson.loads(data)
            arrivals = [
                (int(item["event"]["position"]),
                 _Arrival(item["topic"], item["channels"], item["event"], float(item["at"]),
                          carried_request_id(item.get("request_id"))))
                for item in batch
            ]
        except (orjson.JSONDecodeError, TypeError, KeyError, ValueError):
            logger.warning("ignored a malformed message on %s", self.channel)
            return
        for position, arrival in arrivals:
            self._sequencer.offer(position, arrival)

    def _fan_out(self, position: int, arrival: _Arrival) -> None:
        BROKER_LAG.observe(max(0.0, time.time() - arrival.at))
        self._local.deliver(arrival.topic, arrival.event, arrival.channels,
                            arrival.request_id)

    def _lost(self, missing: dict[int, str | None]) -> None:
        """End the subscriptions that should have had the missing events (all of them when
        the topics are unknown); others lost nothing they wanted."""
        positions = list(missing)
        shown = ", ".join(map(str, positions[:5])) + (", …" if len(positions) > 5 else "")
        error = BrokerUnavailable(
            f"events committed elsewhere (positions {shown}) did not arrive through the "
            f"shared event broker (Redis); {RECOVER}"
        )
        topics = set(missing.values())
        if None in topics:
            self._local.fail_all(error)
        else:
            self._local.fail_all(error, topics)

    def _disconnected(self, error: BaseException) -> None:
        if self._closed:
            return
        if self._connected or not self._attempted.is_set():  # once per outage
            logger.warning("the shared event broker %s is unreachable (%s); reconnecting",
                           redacted_url(self.url), error)
        self._problem = ("the shared event broker (Redis) is unreachable; reconnecting (the "
                         "server log says why)")
        if self._connected:
            self._local.fail_all(BrokerUnavailable(
                f"the connection to the shared event broker (Redis) was lost; {RECOVER}"
            ))
