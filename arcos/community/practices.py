"""Best practices: what adding and editing one stores (library_writes.py runs both),
upvoting and withdrawing an upvote.

An upvote is an INSERT the unique index on (practice, voter) refuses the second time;
nothing reads first to decide, so twenty concurrent upvotes by one principal leave one
row whatever the interleaving. The refused ones answer like the one that counted.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError

from arcos.auth.caller import Caller
from arcos.community.library_input import PracticeDraft, checked_practice, scrubbed_practice
from arcos.community.library_items import readable_item
from arcos.community.library_models import BestPractice, LibraryCategory, PracticeVote
from arcos.community.library_writes import LibraryKind
from arcos.community.sharing import check_not_own
from arcos.store.unit_of_work import UnitOfWork
from arcos.store.write_context import WriteContext

WHAT = "practice"


def _columns(draft: PracticeDraft, current: BestPractice | None = None) -> dict[str, Any]:
    """The model columns a (checked) draft sets, with the keywords search matches (the
    industry and the steps, the new ones or `current`'s)."""
    columns: dict[str, Any] = {}
    for name in ("title", "description", "steps", "examples", "references"):
        value = getattr(draft, name)
        if value is not None:
            columns[name] = value
    if draft.industry is not None:
        columns["industry"] = draft.industry or None
    if draft.category is not None:
        columns["category"] = LibraryCategory(draft.category)
    industry = columns.get("industry", current.industry if current else None)
    steps = columns.get("steps", current.steps if current else [])
    columns["keywords"] = " ".join([industry or "", *steps]).strip()
    return columns


PRACTICE_KIND: LibraryKind[PracticeDraft, BestPractice] = LibraryKind(
    what=WHAT, model=BestPractice, required=("title", "category", "description"),
    check=checked_practice, scrub=scrubbed_practice, columns=_columns,
    empty_lists=("steps", "examples", "references"),
)


@dataclass(frozen=True)
class Vote:
    practice: BestPractice
    #: Whether this call changed anything (False: the vote was already there, or not).
    changed: bool


async def upvote(uid: uuid.UUID, caller: Caller, write: WriteContext) -> Vote:
    """Add `caller`'s upvote; a second upvote by the same principal changes nothing."""
    found: list[BestPractice] = []

    async def work(unit: UnitOfWork) -> Vote:
        item = await readable_item(BestPractice, uid, caller, unit, WHAT)
        check_not_own(item, caller, "upvote")
        found[:] = [item]
        await PracticeVote.create(practice_id=item.id, voter=caller.name, created_at=unit.now,
                                  using_db=unit.connection)
        return Vote(item, changed=True)

    async def already(_: IntegrityError) -> Vote:
        return Vote(found[0], changed=False)

    return await write.writer.run(work, retries=0, on_conflict=already)


async def withdraw_upvote(uid: uuid.UUID, caller: Caller, write: WriteContext) -> Vote:
    """Take `caller`'s upvote back; without one, nothing changes."""

    async def work(unit: UnitOfWork) -> Vote:
        item = await readable_item(BestPractice, uid, caller, unit, WHAT)
        removed = await PracticeVote.filter(practice_id=item.id, voter=caller.name).using_db(
            unit.connection).delete()
        return Vote(item, changed=bool(removed))

    return await write.writer.run(work)
