"""Sharing and editing a pattern or practice: one flow, each kind saying only what differs.

Both kinds are checked (and scrubbed, when shared anonymised) in a worker thread, since a
large draft would otherwise hold the event loop; the search index exists before the first
write that feeds it; and every write is one unit of work, an edit holding the row locked
from the owner check to the save.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from arcos.auth.caller import Caller
from arcos.community.library_items import Item, changeable_item
from arcos.community.library_search import ensure_search
from arcos.community.scrub import Scrubber, scrubber
from arcos.community.sharing import Visibility, readable
from arcos.problems import ProblemCode, Refused
from arcos.store.unit_of_work import UnitOfWork
from arcos.store.write_context import WriteContext

Draft = TypeVar("Draft")


@dataclass(frozen=True)
class Sharing:
    """How an item is shared."""

    visibility: Visibility
    anonymize: bool = False


@dataclass(frozen=True)
class LibraryKind(Generic[Draft, Item]):
    """What sets one kind of library item apart when it is shared or edited."""

    #: The word errors name it by ("pattern").
    what: str
    model: type[Item]
    #: Draft fields a new item must have, in the order the refusal lists them.
    required: tuple[str, ...]
    #: The draft normalised, or Refused listing every problem.
    check: Callable[[Draft], Draft]
    #: The draft's text scrubbed, then checked again.
    scrub: Callable[[Draft, Scrubber], Draft]
    #: The model columns a checked draft sets; the second argument is the row being
    #: edited (None when sharing), for columns derived from fields the draft leaves out.
    columns: Callable[[Draft, Item | None], dict[str, Any]]
    #: List columns a new item starts empty when its draft leaves them out.
    empty_lists: tuple[str, ...] = ()

    def prepared(self, draft: Draft, anonymize: bool, write: WriteContext) -> Draft:
        """The draft checked, and scrubbed when the item is (to be) anonymised."""
        draft = self.check(draft)
        return self.scrub(draft, scrubber(write.settings)) if anonymize else draft

    def missing(self, draft: Draft) -> Refused | None:
        """REQUIRED naming every field a new item must have, when any is left out."""
        if all(getattr(draft, name) is not None for name in self.required):
            return None
        *first, last = self.required
        listed = f"{', '.join(first)} and {last}" if first else last
        return Refused.one(None, f"{listed} {'are' if first else 'is'} required",
                           ProblemCode.REQUIRED)


async def share(
    kind: LibraryKind[Draft, Item], draft: Draft, sharing: Sharing, caller: Caller,
    write: WriteContext,
) -> Item:
    """Store a new item owned by `caller`; Refused listing every problem with it."""
    missing = kind.missing(draft)
    if missing is not None:
        raise missing
    ready = await asyncio.to_thread(kind.prepared, draft, sharing.anonymize, write)
    await ensure_search()

    async def work(unit: UnitOfWork) -> Item:
        return await kind.model.create(
            owner=caller.name, visibility=sharing.visibility, anonymized=sharing.anonymize,
            created_at=unit.now, updated_at=unit.now, using_db=unit.connection,
            **{**{name: [] for name in kind.empty_lists}, **kind.columns(ready, None)},
        )

    return await write.writer.run(work)


async def update(
    kind: LibraryKind[Draft, Item], uid: uuid.UUID, draft: Draft, *,
    visibility: Visibility | None, caller: Caller, write: WriteContext,
) -> Item:
    """Change the fields given, when `caller` owns the item or is an admin; an anonymised
    item's new text is scrubbed too.

    The draft is checked and scrubbed before the write starts, so the store's write lock
    is not held for that CPU work: it depends only on whether the item is anonymised,
    which no edit changes (read first, through the reader's filter so that nothing about
    an item they may not read shows; one not found is refused inside the unit)."""
    anonymized = await kind.model.filter(readable(caller), uid=uid).values_list(
        "anonymized", flat=True)
    ready = await asyncio.to_thread(kind.prepared, draft, bool(anonymized and anonymized[0]),
                                    write)

    async def work(unit: UnitOfWork) -> Item:
        item = await changeable_item(kind.model, uid, caller, unit, kind.what)
        columns = kind.columns(ready, item)
        if visibility is not None:
            columns["visibility"] = visibility
        item.update_from_dict({**columns, "updated_at": unit.now})
        await item.save(using_db=unit.connection)
        return item

    await ensure_search()
    return await write.writer.run(work)
