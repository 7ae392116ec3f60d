"""The outbox: every published event is a row written in its writer's transaction.

Publishing after a commit loses the event when the process dies between the two, and on
PostgreSQL an id taken from a sequence is not a commit order: two transactions that
insert 5 and 6 may commit 6 first, so a reader that resumes "after 5" would skip 6's
neighbour forever. The outbox fixes both:

- the row commits with the write or not at all, so a committed event is never lost (a
  subscriber that reconnects reads what it missed from here);
- `position` is in commit order. On PostgreSQL each writing transaction takes one
  transaction-scoped advisory lock just before it appends its rows and holds it until it
  commits, so a later position can only be taken once every earlier one has committed or
  rolled back (rolled-back positions are gaps, never late arrivals). SQLite runs one
  writer at a time, so its positions are in commit order already. The lock is taken as the
  last step of a unit of work, so it serialises only the append and the commit.

Rows are kept for ARCOS_OUTBOX_RETENTION_HOURS; the housekeeping sweep deletes older ones.

A row also keeps the id of the request that committed it (arcos/request_id.py), for the
readers that follow the outbox rather than the broker (plugin triggers): under
REQUEST_ID_KEY in the payload's JSON object, which `read_after` takes out again, so no
reader's record ever holds it (a column would cost a migration for a log field).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

from arcos.store.bulk import values_placeholders

#: An arbitrary constant naming ARCOS's outbox lock among PostgreSQL advisory locks.
OUTBOX_LOCK_KEY = 0x4152434F53  # "ARCOS"
#: Where a row's payload keeps its request id (no domain record names a field like it).
REQUEST_ID_KEY = "@request_id"


class OutboxEvent(Model):
    """One published event. AUTOINCREMENT on SQLite: a position is never reused, even after
    the newest rows are swept."""
    _no_comments = True  # Tortoise reads no source for `#:` comments (arcos/db.py)

    position = fields.BigIntField(primary_key=True)
    topic = fields.CharField(max_length=128)
    #: The subject's id within its topic (the evidence `seq` for `evidence.added`), so a
    #: resume point given as a domain cursor can be found.
    key = fields.CharField(max_length=64, null=True)
    #: The event as JSON text, or the part of it a reader needs to load the rest.
    payload = fields.TextField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "arcos_outbox"
        indexes = (("topic", "key"),)


@dataclass
class Message:
    """An event a unit of work publishes when (and only if) it commits.

    `event` goes to live subscribers as it is; `record` is what the outbox row keeps for
    readers that catch up later (by default the event itself; domains whose events carry
    large values keep only what is needed to load them). `channels` are the narrower broker
    topics the event is also published on (see `arcos.broker.channels`). `request_id` is
    the request that committed it, stamped by the unit of work; it travels beside the
    event, never inside it."""

    topic: str
    event: dict[str, Any]
    key: str | None = None
    channels: tuple[str, ...] = ()
    record: dict[str, Any] | None = None
    position: int | None = field(default=None, init=False)
    request_id: str | None = field(default=None, init=False)


@dataclass(frozen=True)
class StoredEvent:
    """An outbox row as a reader sees it."""

    position: int
    topic: str
    key: str | None
    #: The payload as stored, less its request id: a JSON object for every event ARCOS
    #: writes; a row written otherwise (another version, an operator) may hold any JSON
    #: value, which is read back as it is, with no request id.
    record: Any
    #: The request that committed the event, when it had one.
    request_id: str | None = None


async def append(
    connection: BaseDBAsyncClient, messages: Sequence[Message], now: datetime
) -> None:
    """Write `messages` as outbox rows in the caller's transaction and set their positions.

    Must be the last statement before the commit (see the module docstring).
    """
    if not messages:
        return
    dialect = connection.capabilities.dialect
    if dialect == "postgres":
        await connection.execute_query("SELECT pg_advisory_xact_lock($1)", [OUTBOX_LOCK_KEY])
    # SQLite columns hold datetimes as text, written the way Tortoise writes them.
    created_at: Any = now if dialect == "postgres" else now.isoformat(" ")
    rows: list[Any] = []
    for message in messages:
        record = message.record if message.record is not None else message.event
        if message.request_id is not None and isinstance(record, dict):
            record = {**record, REQUEST_ID_KEY: message.request_id}
        rows += [message.topic, message.key, json.dumps(record, separators=(",", ":")), created_at]
    placeholders = values_placeholders(dialect, len(messages), 4)
    returned = await connection.execute_query_dict(
        "INSERT INTO arcos_outbox (topic, key, payload, created_at) "  # noqa: S608
        f"VALUES {placeholders} RETURNING position",
        rows,
    )
    # One statement allocates its positions in VALUES order; RETURNING's order is not
    # promised, so the sorted positions are matched to the messages in order.
    for message, position in zip(
        messages, sorted(int(row["position"]) for row in returned), strict=True
    ):
        message.position = position


async def read_after(topic: str, position: int, limit: int) -> list[StoredEvent]:
    """Up to `limit` events on `topic` after `position`, in commit order."""
    rows = await OutboxEvent.filter(topic=topic, position__gt=position).order_by(
        "position"
    ).limit(limit)
    return [_stored(row) for row in rows]


def _stored(row: OutboxEvent) -> StoredEvent:
    record = json.loads(row.payload)
    request_id = record.pop(REQUEST_ID_KEY, None) if isinstance(record, dict) else None
    return StoredEvent(row.position, row.topic, row.key, record, request_id)


async def position_of(topic: str, key: str) -> int | None:
    """The position of the event about `key` on `topic`, or None when it is not (or no
    longer) in the outbox."""
    row = await OutboxEvent.filter(topic=topic, key=key).order_by("position").first()
    return row.position if row is not None else None


async def latest_position() -> int:
    """The newest position, 0 when the outbox is empty."""
    positions = await OutboxEvent.all().order_by("-position").limit(1).values_list(
        "position", flat=True)  # not the row: its payload is not needed
    return int(positions[0]) if positions else 0


async def topics_between(after: int, before: int, limit: int = 1000) -> dict[int, str]:
    """The topic of each committed position strictly between `after` and `before` (at
    most `limit`, oldest first). Once `before` has committed, the answer is final: every
    smaller position had committed or rolled back before `before` was taken (see the module
    docstring), so one missing here will never appear."""
    rows = await OutboxEvent.filter(position__gt=after, position__lt=before).order_by(
        "position").limit(limit).values_list("position", "topic")
    return {int(position): topic for position, topic in rows}


async def forget_before(cutoff: datetime) -> int:
    """Delete events older than `cutoff`, always keeping the newest; returns how many."""
    newest = await latest_position()
    return await OutboxEvent.filter(created_at__lt=cutoff, position__lt=newest).delete()
