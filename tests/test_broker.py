"""The in-process broker: delivery, bounded queues and clean unsubscription."""

import asyncio

import pytest

from arcos.broker import InMemoryBroker, SubscriberTooSlow, Topics


async def test_every_subscriber_gets_each_event_once():
    broker = InMemoryBroker()
    received: list[list[dict]] = [[], []]

    async def consume(index: int) -> None:
        async with broker.subscribe(Topics.EVIDENCE_ADDED) as events:
            async for event in events:
                received[index].append(event)
                if len(received[index]) == 2:
                    return

    tasks = [asyncio.create_task(consume(i)) for i in range(2)]
    while broker.subscriber_count(Topics.EVIDENCE_ADDED) < 2:
        await asyncio.sleep(0)
    await broker.publish(Topics.EVIDENCE_ADDED, {"n": 1})
    await broker.publish("other.topic", {"n": 99})
    await broker.publish(Topics.EVIDENCE_ADDED, {"n": 2})
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


def test_metrics_topic_is_per_project():
    assert Topics.metrics_updated("github.com/a/b") == "metrics.updated.github.com/a/b"
