"""Outbox positions are a commit order: a unit of work that appends after another cannot
commit before it (on PostgreSQL through the transaction advisory lock; SQLite runs one
writer at a time). Without that, a reader catching up could see position 6 committed,
move past it, and never see position 5 commit a moment later."""

from __future__ import annotations

import asyncio

import pytest
from conftest import running_app

from arcos.evidence.events import EVIDENCE_ADDED
from arcos.store import unit_of_work
from arcos.store.outbox import Message
from arcos.store.unit_of_work import UnitOfWork

#: How long the second writer is given to commit, if it could, while the first is open.
OVERTAKE_WINDOW_SECONDS = 1.0


async def test_a_later_position_cannot_commit_while_an_earlier_one_is_open(
    settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    first_appended, release_first = asyncio.Event(), asyncio.Event()
    append = unit_of_work.append

    async def append_then_hold_the_first(connection, messages, now) -> None:
        await append(connection, messages, now)
        # Other units (the app's token issue) publish nothing, or other events.
        if messages and messages[0].event.get("writer") == "first":
            first_appended.set()
            await release_first.wait()  # appended, not yet committed

    monkeypatch.setattr(unit_of_work, "append", append_then_hold_the_first)

    def publishing(name: str):
        async def work(unit: UnitOfWork) -> int:
            message = Message(topic=EVIDENCE_ADDED, event={"writer": name})
            unit.publish(message)
            return id(message)
        return work

    async with running_app(settings) as running:
        writer = running.app.state.writer
        async with writer.broker.subscribe(EVIDENCE_ADDED) as events:
            first = asyncio.create_task(writer.run(publishing("first")))
            await asyncio.wait_for(first_appended.wait(), 10)
            second = asyncio.create_task(writer.run(publishing("second")))
            await asyncio.sleep(OVERTAKE_WINDOW_SECONDS)
            overtook = second.done()
            release_first.set()
            await asyncio.wait_for(asyncio.gather(first, second), 10)
            received = [await asyncio.wait_for(anext(events), 5) for _ in range(2)]
    assert not overtook, "a later unit of work committed while an earlier one was open"
    assert [event["writer"] for event in received] == ["first", "second"]
    assert received[0]["position"] < received[1]["position"]
