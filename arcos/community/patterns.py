"""Quality patterns: what sharing and editing one stores (library_writes.py runs both),
rating, and recording that a project adopted one.

Each write is one unit of work. A rating and a use are unique per (pattern, principal)
and (pattern, project) in the database; rating again replaces the stars, recording a use
again keeps the first adoption date.
"""

from __future__ import annotations

import uuid
from typing import Any

from arcos.auth.caller import Caller
from arcos.community.library_input import (
    PatternDraft,
    checked_pattern,
    scrubbed_pattern,
    tag_key,
)
from arcos.community.library_items import readable_item
from arcos.community.library_models import (
    LibraryCategory,
    PatternRating,
    PatternUse,
    QualityPattern,
)
from arcos.community.library_writes import LibraryKind
from arcos.community.project_writers import require_evidence_write
from arcos.community.sharing import check_not_own
from arcos.evidence.drafts import MAX_SLUG_LENGTH, SLUG
from arcos.problems import ProblemCode, Refused
from arcos.store.unit_of_work import UnitOfWork
from arcos.store.write_context import WriteContext

WHAT = "pattern"


def _columns(draft: PatternDraft, _current: QualityPattern | None = None) -> dict[str, Any]:
    """The model columns a (checked) draft sets (none depends on what the row holds)."""
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


PATTERN_KIND: LibraryKind[PatternDraft, QualityPattern] = LibraryKind(
    what=WHAT, model=QualityPattern, required=("name", "category", "description", "pattern"),
    check=checked_pattern, scrub=scrubbed_pattern, columns=_columns, empty_lists=("tags",),
)


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
