"""Group commit (arcos/store/group_commit.py): concurrent writes share a transaction, each
answered only after it committed, and one item's failure stays its own.

The items are webhook secret rows (any model with a unique column would do): a name
already stored makes its INSERT fail the whole transaction, and the group is then
written again item by item.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from conftest import running_app
from tortoise.exceptions import IntegrityError

from arcos.broker import InMemoryBroker
from arcos.problems import ProblemCode, Refused
from arcos.store.group_commit import GroupCommit
from arcos.store.outbox import Message
from arcos.store.unit_of_work import UnitOfWork, Writer
from arcos.webhooks.models import WebhookSecret

TOPIC = "test.secret_written"


@pytest.fixture
async def writer(settings):
    """A writer of its own on a running app's store (any topic allowed)."""
    async with running_app(settings):
        yield Writer(InMemoryBroker())


def group_of(writer: Writer, log: list[str]) -> GroupCommit[str, str]:
    async def write_group(unit: UnitOfWork, names: Sequence[str]) -> list[str | Exception]:
        answers: list[str | Exception] = []
        for name in names:
            if name.startswith("refused"):
                answers.append(Refused.one("name", "refused on its own", ProblemCode.INVALID))
                continue
            await WebhookSecret.create(name=name, current="x" * 32, updated_by="test",
                                       using_db=unit.connection)
            unit.publish(Message(topic=TOPIC, event={"name": name}))
            answers.append(f"wrote {name}")
        return answers

    async def taken(name: str, conflict: IntegrityError) -> str:
        return f"{name} was taken"

    writer.on_commit(TOPIC, lambda messages: log.extend(
        f"committed {m.event['name']}" for m in messages
    ))
    return GroupCommit(writer, write_group, on_conflict=taken)


async def submit_logged(group: GroupCommit[str, str], name: str, log: list[str]) -> str:
    answer = await group.submit(name)
    log.append(f"answered {name}")
    return answer


async def test_each_write_is_answered_after_its_group_committed(writer):
    log: list[str] = []
    group = group_of(writer, log)
    names = [f"name-{i}" for i in range(12)]
    answers = await asyncio.gather(*(submit_logged(group, name, log) for name in names))
    assert answers == [f"wrote {name}" for name in names]
    assert group.groups < len(names)  # they were grouped
    for name in names:
        assert log.index(f"committed {name}") < log.index(f"answered {name}")
    assert await WebhookSecret.filter(name__in=names).count() == len(names)


async def test_one_conflicting_item_does_not_fail_its_group(writer):
    await WebhookSecret.create(name="name-3", current="y" * 32, updated_by="earlier")
    group = group_of(writer, [])
    names = [f"name-{i}" for i in range(6)]
    answers = await asyncio.gather(*(group.submit(name) for name in names))
    assert answers == [
        "name-3 was taken" if name == "name-3" else f"wrote {name}" for name in names
    ]
    assert await WebhookSecret.filter(name__in=names).count() == len(names)
    assert (await WebhookSecret.get(name="name-3")).updated_by == "earlier"


async def test_an_item_refused_on_its_own_fails_alone(writer):
    group = group_of(writer, [])
    results = await asyncio.gather(
        *(group.submit(name) for name in ("a-name", "refused-one", "b-name")),
        return_exceptions=True,
    )
    assert results[0] == "wrote a-name" and results[2] == "wrote b-name"
    assert isinstance(results[1], Refused)
    assert await WebhookSecret.filter(name__in=["a-name", "b-name"]).count() == 2


async def test_a_stopped_writer_answers_every_waiting_item(writer):
    """A drain cancelled in the middle of a group (shutdown) answers every writer of that
    group and of those waiting behind it; none is left waiting for ever."""
    started = asyncio.Event()

    async def write_group(unit: UnitOfWork, names: Sequence[str]) -> list[str | Exception]:
        started.set()
        await asyncio.sleep(60)
        return [f"wrote {name}" for name in names]

    async def taken(name: str, conflict: IntegrityError) -> str:
        return f"{name} was taken"

    group: GroupCommit[str, str] = GroupCommit(writer, write_group, on_conflict=taken)
    waiting = [asyncio.create_task(group.submit(f"name-{i}")) for i in range(5)]
    await started.wait()
    later = [asyncio.create_task(group.submit(f"later-{i}")) for i in range(3)]
    await asyncio.sleep(0)
    drain = group._task
    assert drain is not None
    drain.cancel()
    results = await asyncio.wait_for(
        asyncio.gather(*waiting, *later, return_exceptions=True), timeout=10
    )
    assert all(isinstance(result, BaseException) for result in results), results


async def test_a_group_carries_its_request_id_only_when_it_is_one_requests(writer):
    """Events name the request behind them; a group mixing requests cannot say which
    event is whose, so its events name none (rather than the first writer's)."""
    from arcos.request_id import CURRENT

    stamped: dict[str, str | None] = {}
    writer.on_commit(TOPIC, lambda messages: stamped.update(
        (m.event["name"], m.request_id) for m in messages))
    group = group_of(writer, [])

    async def submit_as(request_id: str, name: str) -> str:
        CURRENT.set(request_id)  # this task's own context, as the middleware sets it
        return await group.submit(name)

    await submit_as("alone", "alone-1")
    await asyncio.gather(*(submit_as(f"mixed-{i}", f"mixed-{i}") for i in range(4)))
    assert stamped["alone-1"] == "alone"
    assert group.groups < 5  # the four shared groups
    assert [stamped[f"mixed-{i}"] for i in range(4)].count(None) >= 2
    assert {stamped[f"mixed-{i}"] for i in range(4)} <= {None, *(f"mixed-{i}" for i in range(4))}
