"""Taking a shared item down: its owner withdraws it, an admin hides it.

Both work on any kind by its global id (arcos/community/kinds.py), so each kind does not
grow its own pair of mutations. A caller who may not read an item is told it does not
exist, so these mutations reveal nothing a read would not.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from arcos.auth.caller import Caller
from arcos.community.kinds import SharedKind, kind_of_type
from arcos.community.sharing import SharedItem, is_admin, may_change, may_read
from arcos.problems import ProblemCode, Refused
from arcos.store.unit_of_work import UnitOfWork
from arcos.store.write_context import WriteContext

MAX_REASON_LENGTH = 2000


@dataclass(frozen=True)
class ItemRef:
    """A shared item as a global id names it."""

    type_name: str
    node_id: str


@dataclass(frozen=True)
class Moderated:
    kind: SharedKind
    item: SharedItem


async def withdraw(ref: ItemRef, caller: Caller, write: WriteContext) -> Moderated:
    """Withdraw an item: nobody reads it afterwards. Its owner or an admin may."""

    async def work(unit: UnitOfWork) -> Moderated:
        kind, item = await _readable_item(ref, caller, unit)
        if not may_change(item, caller):
            raise Refused.one("id", "only the item's owner or an admin may withdraw it",
                              ProblemCode.INVALID)
        item.withdrawn = True
        item.updated_at = unit.now
        await item.save(using_db=unit.connection, update_fields=["withdrawn", "updated_at"])
        return Moderated(kind, item)

    return await write.writer.run(work)


async def hide(
    ref: ItemRef, hidden: bool, reason: str | None, caller: Caller, write: WriteContext
) -> Moderated:
    """Hide an item from everyone but admins (or show it again). Admins only; the
    resolver's permission class says so too, this is the service's own guard."""
    if not is_admin(caller):
        raise Refused.one(None, "only an admin may hide items", ProblemCode.INVALID)
    if reason is not None and len(reason) > MAX_REASON_LENGTH:
        raise Refused.one("reason", f"reason must be at most {MAX_REASON_LENGTH} characters",
                          ProblemCode.TOO_LARGE)

    async def work(unit: UnitOfWork) -> Moderated:
        kind, item = await _readable_item(ref, caller, unit)
        item.hidden = hidden
        item.hidden_reason = reason if hidden else None
        item.updated_at = unit.now
        await item.save(using_db=unit.connection,
                        update_fields=["hidden", "hidden_reason", "updated_at"])
        return Moderated(kind, item)

    return await write.writer.run(work)


async def _readable_item(
    ref: ItemRef, caller: Caller, unit: UnitOfWork
) -> tuple[SharedKind, SharedItem]:
    kind = kind_of_type(ref.type_name)
    missing = Refused.one("id", f"no community item with id of type {ref.type_name!r:.80} "
                          "and that key that you may read", ProblemCode.NOT_FOUND)
    if kind is None:
        raise missing
    try:
        uid = uuid.UUID(ref.node_id)
    except ValueError:
        raise missing from None
    item = await kind.model.filter(uid=uid).using_db(unit.connection).first()
    if item is None or not may_read(item, caller):
        raise missing
    return kind, item
