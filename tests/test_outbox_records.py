"""What an outbox row keeps beside its record (arcos/store/outbox.py): the request id goes
into the payload's JSON object and `read_after` takes it out again, and a payload that is
not a JSON object (a row another version or an operator wrote) is read back as it is,
with no request id, never failing the reader. The principal cache, which follows the
revocations of other processes through the outbox, forgets everything on such a row and
reads on past it, rather than stopping at it (arcos/auth/principal_cache.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from tortoise.transactions import in_transaction

from arcos.auth.caller import Caller
from arcos.auth.principal_cache import PrincipalCache
from arcos.auth.service import TOKEN_REVOKED
from arcos.store import outbox
from arcos.store.outbox import REQUEST_ID_KEY, Message, OutboxEvent

TOPIC = "test.records"


async def append(*messages: Message) -> None:
    async with in_transaction() as connection:
        await outbox.append(connection, messages, datetime.now(UTC))


def stamped(record: Any, request_id: str, topic: str = TOPIC) -> Message:
    """A message for `record`, committed under `request_id` (as a unit of work stamps it)."""
    message = Message(topic, event={"whole": "event"}, record=record)
    message.request_id = request_id
    return message


async def payloads(after: int) -> list[str]:
    return list(await OutboxEvent.filter(topic=TOPIC, position__gt=after).order_by(
        "position").values_list("payload", flat=True))


async def test_a_records_request_id_is_kept_beside_it_and_taken_out_on_reading(app):
    start = await outbox.latest_position()
    await append(stamped({"seq": 1}, "req-1"))
    [payload] = await payloads(start)
    assert json.loads(payload) == {"seq": 1, REQUEST_ID_KEY: "req-1"}
    [stored] = await outbox.read_after(TOPIC, start, 10)
    assert (stored.record, stored.request_id) == ({"seq": 1}, "req-1")


@pytest.mark.parametrize("record", [[1, 2], "text", 7, True, None])
async def test_a_record_that_is_not_an_object_is_kept_as_it_is_without_its_request_id(
    app, record: Any
):
    start = await outbox.latest_position()
    message = stamped(record, "req-2")
    if record is None:  # no record of its own: the outbox keeps the event
        message.record, message.event = None, ["an", "event"]  # type: ignore[assignment]
        record = ["an", "event"]
    await append(message)
    [payload] = await payloads(start)
    assert json.loads(payload) == record  # no request id pushed into it
    [stored] = await outbox.read_after(TOPIC, start, 10)
    assert (stored.record, stored.request_id) == (record, None)


def _caller(token_id: int) -> Caller:
    return Caller(name="ci", kind="ci", scopes=frozenset(), authenticated=True,
                  token_id=token_id, token_name=f"t{token_id}")


async def test_a_revocation_row_that_is_not_an_object_empties_the_cache_and_is_passed(app):
    """Such a row may name a revoked token the cache cannot find: everything is forgotten.
    The follower then moves past it, so later revocations are read and the cache is
    usable again, instead of failing (and emptying the cache) at every poll."""
    cache = PrincipalCache(ttl_seconds=30)
    cache.follower.position = await outbox.latest_position()
    for token_id in (1, 2):
        cache.put(f"d{token_id}", _caller(token_id), None, None, cache.generation)
    row = await OutboxEvent.create(topic=TOKEN_REVOKED, payload="[2]",
                                   created_at=datetime.now(UTC))
    await cache.follower.read_new()
    assert len(cache) == 0
    assert cache.follower.position == row.position

    cache.put("d1", _caller(1), None, None, cache.generation)
    cache.put("d3", _caller(3), None, None, cache.generation)
    await append(stamped({"token_id": 3}, "req-3", topic=TOKEN_REVOKED))
    await cache.follower.read_new()
    assert cache.get("d3") is None and cache.get("d1") is not None
