"""The shared broker's publishing side: events leave in the order they were queued, in
batches, and a Redis that refuses them costs dropped events (recovered from the store by
subscribers), never a stuck queue or a waiting writer."""

from __future__ import annotations

import asyncio
import json

from arcos.redis_broker.outgoing import MAX_PENDING, Outgoing


async def test_events_leave_in_order_and_in_batches() -> None:
    sent: list[list[int]] = []

    async def send(batch: bytes) -> None:
        sent.append(json.loads(batch))

    outgoing = Outgoing(send)
    task = asyncio.create_task(outgoing.run())
    try:
        for n in range(50):
            outgoing.put(json.dumps(n).encode())
        await asyncio.wait_for(outgoing.flush(), 10)
    finally:
        task.cancel()
    assert [n for batch in sent for n in batch] == list(range(50))
    assert len(sent) < 50  # queued while nothing was sent: they left together


async def test_a_failing_send_drops_its_batch_and_the_next_ones_go_out() -> None:
    sent: list[list[int]] = []
    failing = True

    async def send(batch: bytes) -> None:
        if failing:
            raise ConnectionError("Redis is away")
        sent.append(json.loads(batch))

    outgoing = Outgoing(send)
    task = asyncio.create_task(outgoing.run())
    try:
        outgoing.put(b"1")
        await asyncio.wait_for(outgoing.flush(), 10)
        failing = False
        outgoing.put(b"2")
        await asyncio.wait_for(outgoing.flush(), 10)
    finally:
        task.cancel()
    assert sent == [[2]]
    assert outgoing.dropped == 1


async def test_a_full_queue_drops_new_events_without_waiting() -> None:
    outgoing = Outgoing(lambda batch: asyncio.sleep(0))  # never started: nothing leaves
    for _ in range(MAX_PENDING + 5):
        outgoing.put(b"0")
    assert outgoing.dropped == 5
