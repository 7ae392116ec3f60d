"""Quality patterns: sharing, editing, rating, and recording that a project adopted one.

Each write is one unit of work. A rating and a use are unique per (pattern, principal)
and (pattern, project) in the database; rating again replaces the stars, recording a use
again keeps the first adoption date.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

from arcos.auth.caller import Caller
from arcos.community.library_input import (
    PatternDraft,
    checked_pattern,
    scrubbed_pattern,
    tag_key,
)
from arcos.community.library_items import changeable_item, readable_item
from arcos.community.library_models import (
    LibraryCategory,
    PatternRating,
    PatternUse,
    QualityPattern,
)
from arcos.community.library_search import ensure_search
from arcos.community.project_writers import require_evidence_write
from arcos.community.scrub import scrubber
from arcos.community.sharing import Visibility, check_not_own
from arcos.evidence.drafts import MAX_SLUG_LENGTH, SLUG
from arcos.problems import ProblemCode, Refused
from arcos.store.unit_of_work import UnitOfWork
from arcos.store.write_context import WriteContext

WHAT = "pattern"


@dataclass(frozen=True)
class Sharing:
    """How an item is shared."""

    visibility: Visibility
    anonymize: bool = False


def _prepared(draft: PatternDraft, anonymize: bool, write: WriteContext) -> PatternDraft:
    draft = checked_pattern(draft)
    return scrubbed_pattern(draft, scrubber(write.settings)) if anonymize else draft


def _columns(draft: PatternDraft) -> dict[str, Any]:
    """The model columns a (checked) draft sets."""
    columns: dict[str, Any] = {}
    for name in ("name", "description", "pattern", "tags"):
        value = getattr(draft, name)
        if value is not None:
            columns[name] = value
    if draft.category is not None:
        columns["category"] = LibraryCategory(draft.category)
    if draft.pattern is not None:
        columns["metrics"] = draft.metrics
    if draft.tags is not None:
        columns["keywords"] = " ".join(draft.tags)
        columns["tag_index"] = "".join(tag_key(tag)[:-1] for tag in draft.tags) + "|" \
            if draft.tags else ""
    return columns


async def share_pattern(
    draft: PatternDraft, sharing: Sharing, caller: Caller, write: WriteContext
) -> QualityPattern:
    """Store a new pattern owned by `caller`; Refused listing every problem with it."""
    if None in (draft.name, draft.category, draft.description, draft.pattern):
        raise Refused.one(None, "name, category, description and pattern are required",
                          ProblemCode.REQUIRED)
    ready = await asyncio.to_thread(_prepared, draft, sharing.anonymize, write)
    await ensure_search()

    async def work(unit: UnitOfWork) -> QualityPattern:
        return await QualityPattern.create(
            owner=caller.name, visibility=sharing.visibility, anonymized=sharing.anonymize,
            created_at=unit.now, updated_at=unit.now, using_db=unit.connection,
            **{"tags": [], **_columns(ready)},
        )

    return await write.writer.run(work)


async def update_pattern(
    uid: uuid.UUID, draft: PatternDraft, visibility: Visibility | None, caller: Caller,
    write: WriteContext,
) -> QualityPattern:
    """Change the fields given; an anonymised pattern's new text is scrubbed too."""

    async def work(unit: UnitOfWork) -> QualityPattern:
        item = await changeable_item(QualityPattern, uid, caller, unit, WHAT)
        columns = _columns(await asyncio.to_thread(_prepared, draft, item.anonymized, write))
        if visibility is not None:
            columns["visibility"] = visibility
        item.update_from_dict({**columns, "updated_at": unit.now})
        await item.save(using_db=unit.connection)
        return item

    await ensure_search()
    return await write.writer.run(work)


async def rate_pattern(
    uid: uuid.UUID, stars: int, caller: Caller, write: WriteContext
) -> QualityPattern:
    """Give a pattern 1-5 stars; a second rating by the same principal replaces the first."""
    if not 1 <= stars <= 5:
        raise Refused.one("stars", f"stars must be 1 to 5 (got {stars})", ProblemCode.INVALID)

    async def work(unit: UnitOfWork) -> QualityPattern:
        item = await readable_item(QualityPattern, uid, caller, unit, WHAT)
        check_not_own(item, caller, "rate")
        updated = await PatternRating.filter(pattern_id=item.id, rater=caller.name).using_db(
            unit.connection).update(stars=stars, updated_at=unit.now)
        if not updated:
            # A concurrent first rating makes this insert fail on the unique index; the
            # writer runs the unit again, which then finds it and replaces it.
            await PatternRating.create(pattern_id=item.id, rater=caller.name, stars=stars,
                                       created_at=unit.now, updated_at=unit.now,
                                       using_db=unit.connection)
        return item

    return await write.writer.run(work, retries=2)


def project_slug(raw: str) -> str:
    """A project slug as intake stores it (lower case), or Refused."""
    slug = raw.strip().lower()
    if len(slug) > MAX_SLUG_LENGTH or not SLUG.match(slug):
        raise Refused.one("project", "project must be a slug like github.com/owner/repo",
                          ProblemCode.INVALID)
    return slug


async def record_use(
    uid: uuid.UUID, project: str, caller: Caller, write: WriteContext
) -> tuple[QualityPattern, PatternUse]:
    """Record that `project` adopted the pattern now (the first record's date stays).
    Only a caller who may write the project's evidence may: a use moves the pattern's
    usage count and effectiveness others read."""
    require_evidence_write(caller, "recording that a project adopted a pattern")
    slug = project_slug(project)

    async def work(unit: UnitOfWork) -> tuple[QualityPattern, PatternUse]:
        item = await readable_item(QualityPattern, uid, caller, unit, WHAT)
        use = await PatternUse.filter(pattern_id=item.id, project=slug).using_db(
            unit.connection).first()
        if use is None:
            use = await PatternUse.create(pattern_id=item.id, project=slug,
                                          adopted_at=unit.now, recorded_by=caller.name,
                                          using_db=unit.connection)
        return item, use

    return await write.writer.run(work, retries=2)
