"""The relay publishes committed outbox messages in position order, whatever order their
writers finish in, and never waits for a position that rolled back."""

from __future__ import annotations

from arcos.broker import InMemoryBroker
from arcos.store.outbox import Message
from arcos.store.relay import Relay


def _message(position: int) -> Message:
    message = Message(topic="t", event={"n": position})
    message.position = position
    return message


async def _published(broker: InMemoryBroker, steps) -> list[int]:
    async with broker.subscribe("t") as events:
        await steps()
        await broker.close()
        return [event["position"] async for event in events]


async def test_a_later_commit_waits_for_an_earlier_writer_still_in_flight():
    broker = InMemoryBroker()
    relay = Relay(broker)
    five, six, seven = _message(5), _message(6), _message(7)

    async def steps():
        relay.reserve([five])
        relay.reserve([six, seven])
        await relay.committed([six, seven])  # finished first
        assert relay.pending == 2
        await relay.committed([five])

    assert await _published(broker, steps) == [5, 6, 7]
    assert relay.pending == 0


async def test_a_rolled_back_position_is_not_waited_for():
    broker = InMemoryBroker()
    relay = Relay(broker)
    five, six = _message(5), _message(6)

    async def steps():
        relay.reserve([five])
        relay.reserve([six])
        await relay.committed([six])
        await relay.abandoned([five])

    assert await _published(broker, steps) == [6]


async def test_channels_get_the_event_too():
    broker = InMemoryBroker()
    relay = Relay(broker)
    message = Message(topic="t", event={}, channels=("t/narrow",))
    message.position = 1
    async with broker.subscribe("t/narrow") as events:
        relay.reserve([message])
        await relay.committed([message])
        await broker.close()
        assert [event["position"] async for event in events] == [1]
