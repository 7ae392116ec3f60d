"""The in-process broker: delivery, bounded queues and clean unsubscription."""

import asyncio

import pytest

from arcos.broker import InMemoryBroker, SubscriberTooSlow, channel, channels


async def test_every_subscriber_gets_each_event_once():
    broker = InMemoryBroker()
    received: list[list[dict]] = [[], []]

    async def consume(index: int) -> None:
        async with broker.subscribe("evidence.added") as events:
            async for event in events:
                received[index].append(event)
                if len(received[index]) == 2:
                    return

    tasks = [asyncio.create_task(consume(i)) for i in range(2)]
    while broker.subscriber_count("evidence.added") < 2:
        await asyncio.sleep(0)
    await broker.publish("evidence.added", {"n": 1})
    await broker.publish("other.topic", {"n": 99})
    await broker.publish("evidence.added", {"n": 2})
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert received == [[{"n": 1}, {"n": 2}]] * 2
    assert broker.subscriber_count() == 0


async def test_cancelled_subscriber_is_removed():
    broker = InMemoryBroker()

    async def consume() -> None:
        async with broker.subscribe("t") as events:
            async for _ in events:
                pass

    task = asyncio.create_task(consume())
    while broker.subscriber_count("t") == 0:
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert broker.subscriber_count() == 0


async def test_slow_subscriber_is_cut_off_not_silently_skipped():
    broker = InMemoryBroker(queue_size=3)
    async with broker.subscribe("t") as events:
        for n in range(5):
            await broker.publish("t", {"n": n})
        seen = []
        with pytest.raises(SubscriberTooSlow, match="fell more than 3 events behind"):
            async for event in events:
                seen.append(event["n"])
        assert seen == [0, 1, 2]


async def test_close_ends_open_subscriptions():
    broker = InMemoryBroker()
    async with broker.subscribe("t") as events:
        await broker.close()
        assert [event async for event in events] == []


async def test_a_filtered_subscriber_receives_only_events_published_on_its_channel():
    broker = InMemoryBroker()
    wanted = channel("evidence.added", project="a/b", type="build")
    async with broker.subscribe(wanted) as events:
        for project, type_ in (("a/b", "build"), ("a/b", "sbom"), ("c/d", "build")):
            for topic in channels("evidence.added", project=project, type=type_):
                await broker.publish(topic, {"project": project, "type": type_})
        await broker.close()
        received = [event async for event in events]
    assert received == [{"project": "a/b", "type": "build"}]


def test_channel_names_cannot_collide_through_crafted_values():
    # A project slug that spells out another filter must not name that filter's channel.
    assert channel("t", project="x", type="y") != channel("t", project='x","type=y')
    assert len(set(channels("t", project="x", type="y"))) == 3
