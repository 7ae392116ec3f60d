"""Finding the pattern or practice a write names, as the caller sees it.

An item the caller may not read is answered exactly like one that does not exist, so a
refusal never confirms that a private item is there.
"""

from __future__ import annotations

import uuid
from typing import TypeVar

from arcos.auth.caller import Caller
from arcos.community.sharing import SharedItem, may_change, readable
from arcos.problems import ProblemCode, Refused
from arcos.store.unit_of_work import UnitOfWork

Item = TypeVar("Item", bound=SharedItem)


async def readable_item(
    model: type[Item], uid: uuid.UUID, caller: Caller, unit: UnitOfWork, what: str,
    *, lock: bool = False,
) -> Item:
    """The item `caller` may read, locked for update when `lock`; Refused NOT_FOUND
    otherwise."""
    query = model.filter(readable(caller), uid=uid).using_db(unit.connection)
    if lock:
        query = query.select_for_update()
    item = await query.first()
    if item is None:
        raise Refused.one("id", f"no {what} with id {uid}", ProblemCode.NOT_FOUND)
    return item


async def changeable_item(
    model: type[Item], uid: uuid.UUID, caller: Caller, unit: UnitOfWork, what: str
) -> Item:
    """The item, locked, when `caller` owns it or is an admin; Refused otherwise."""
    item = await readable_item(model, uid, caller, unit, what, lock=True)
    if not may_change(item, caller):
        raise Refused.one("id", f"only its owner or an admin may change this {what}",
                          ProblemCode.INVALID)
    return item
