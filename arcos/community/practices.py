"""Best practices: adding, editing, upvoting and withdrawing an upvote.

An upvote is an INSERT the unique index on (practice, voter) refuses the second time;
nothing reads first to decide, so twenty concurrent upvotes by one principal leave one
row whatever the interleaving. The refused ones answer like the one that counted.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError

from arcos.auth.caller import Caller
from arcos.community.library_input import PracticeDraft, checked_practice, scrubbed_practice
from arcos.community.library_items import changeable_item, readable_item
from arcos.community.library_models import BestPractice, LibraryCategory, PracticeVote
from arcos.community.library_search import ensure_search
from arcos.community.patterns import Sharing
from arcos.community.scrub import scrubber
from arcos.community.sharing import Visibility, check_not_own
from arcos.problems import ProblemCode, Refused
from arcos.store.unit_of_work import UnitOfWork
from arcos.store.write_context import WriteContext

WHAT = "practice"


def _prepared(draft: PracticeDraft, anonymize: bool, write: WriteContext) -> PracticeDraft:
    draft = checked_practice(draft)
    return scrubbed_practice(draft, scrubber(write.settings)) if anonymize else draft


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


async def add_practice(
    draft: PracticeDraft, sharing: Sharing, caller: Caller, write: WriteContext
) -> BestPractice:
    """Store a new practice owned by `caller`; Refused listing every problem with it."""
    if None in (draft.title, draft.category, draft.description):
        raise Refused.one(None, "title, category and description are required",
                          ProblemCode.REQUIRED)
    ready = await asyncio.to_thread(_prepared, draft, sharing.anonymize, write)
    await ensure_search()

    async def work(unit: UnitOfWork) -> BestPractice:
        return await BestPractice.create(
            owner=caller.name, visibility=sharing.visibility, anonymized=sharing.anonymize,
            created_at=unit.now, updated_at=unit.now, using_db=unit.connection,
            **{"steps": [], "examples": [], "references": [], **_columns(ready)},
        )

    return await write.writer.run(work)


async def update_practice(
    uid: uuid.UUID, draft: PracticeDraft, visibility: Visibility | None, caller: Caller,
    write: WriteContext,
) -> BestPractice:
    """Change the fields given; an anonymised practice's new text is scrubbed too."""

    async def work(unit: UnitOfWork) -> BestPractice:
        item = await changeable_item(BestPractice, uid, caller, unit, WHAT)
        columns = _columns(await asyncio.to_thread(_prepared, draft, item.anonymized, write), item)
        if visibility is not None:
            columns["visibility"] = visibility
        item.update_from_dict({**columns, "updated_at": unit.now})
        await item.save(using_db=unit.connection)
        return item

    await ensure_search()
    return await write.writer.run(work)


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
