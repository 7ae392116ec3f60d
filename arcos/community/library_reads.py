"""Reading the libraries as one caller sees them: pages, ranked search, tallies.

Every listing starts from `readable(caller)`, and search, counting and paging happen in
the same query after it, so an item the caller may not read changes neither the page,
nor its order, nor `totalCount` (arcos/community/library_search.py ranks each row by its
own text alone).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from tortoise.expressions import RawSQL, Subquery
from tortoise.functions import Avg, Count

from arcos.auth.caller import Caller
from arcos.community.library_input import tag_key
from arcos.community.library_models import (
    BestPractice,
    LibraryCategory,
    PatternRating,
    PatternUse,
    PracticeVote,
    QualityPattern,
)
from arcos.community.library_search import (
    PATTERNS,
    PRACTICES,
    SearchIndex,
    search_page,
    words,
)
from arcos.community.sharing import SharedItem, readable

Item = TypeVar("Item", bound=SharedItem)
Row = TypeVar("Row")


@dataclass(frozen=True)
class LibraryQuery:
    category: LibraryCategory | None = None
    search: str | None = None
    #: Patterns only: carrying this tag.
    tag: str | None = None
    #: Practices only: of this industry.
    industry: str | None = None


@dataclass(frozen=True)
class LibraryPage(Generic[Row]):
    rows: list[Row]
    has_next: bool
    total: int


async def _page(
    model: type[Item], index: SearchIndex, query: LibraryQuery, caller: Caller, first: int,
    offset: int,
) -> LibraryPage[Item]:
    terms = words(query.search) if query.search is not None else None
    queryset = model.filter(readable(caller))
    if query.category is not None:
        queryset = queryset.filter(category=query.category)
    if query.industry is not None:
        queryset = queryset.filter(industry=query.industry.strip().lower())
    if query.tag is not None:
        queryset = queryset.filter(tag_index__contains=tag_key(query.tag))
    if terms:
        rows, has_next, total = await search_page(queryset, index, terms, first, offset)
        return LibraryPage(rows, has_next, total)
    total = await queryset.count()
    rows = list(await queryset.order_by("-id").offset(offset).limit(first + 1))
    return LibraryPage(rows[:first], len(rows) > first, total)


async def page_patterns(
    query: LibraryQuery, caller: Caller, first: int, offset: int
) -> LibraryPage[QualityPattern]:
    return await _page(QualityPattern, PATTERNS, query, caller, first, offset)


async def page_practices(
    query: LibraryQuery, caller: Caller, first: int, offset: int
) -> LibraryPage[BestPractice]:
    return await _page(BestPractice, PRACTICES, query, caller, first, offset)


async def items_by_uid(model: type[Item], uids: Sequence[str], caller: Caller) -> dict[str, Item]:
    """The items among `uids` that `caller` may read, by uid text."""
    rows = await model.filter(readable(caller), uid__in=list(uids))
    return {str(row.uid): row for row in rows}


@dataclass(frozen=True)
class Ratings:
    average: float | None
    count: int


async def rating_summaries(pattern_ids: Sequence[int]) -> dict[int, Ratings]:
    """Average stars and number of ratings of each pattern."""
    rows = await PatternRating.filter(pattern_id__in=list(pattern_ids)).annotate(
        average=Avg("stars"), n=Count("id")).group_by("pattern_id").values_list(
        "pattern_id", "average", "n")
    found = {pid: Ratings(float(avg) if avg is not None else None, n) for pid, avg, n in rows}
    return {pid: found.get(pid, Ratings(None, 0)) for pid in pattern_ids}


async def counts(model: type[PatternUse] | type[PracticeVote], column: str,
                 ids: Sequence[int]) -> dict[int, int]:
    """How many rows of `model` name each id in `column` (uses of patterns, votes of
    practices)."""
    rows = await model.filter(**{f"{column}__in": list(ids)}).annotate(
        n=Count("id")).group_by(column).values_list(column, "n")
    found = dict(rows)
    return {key: found.get(key, 0) for key in ids}


async def own_ratings(pattern_ids: Sequence[int], rater: str) -> dict[int, int]:
    """The stars `rater` gave each of these patterns, where it rated them."""
    rows = await PatternRating.filter(pattern_id__in=list(pattern_ids), rater=rater
                                      ).values_list("pattern_id", "stars")
    return dict(rows)


async def own_votes(practice_ids: Sequence[int], voter: str) -> set[int]:
    """Which of these practices `voter` upvoted."""
    rows = await PracticeVote.filter(practice_id__in=list(practice_ids), voter=voter
                                     ).values_list("practice_id", flat=True)
    return set(rows)


#: The newest `{limit}` adoptions of each pattern in `{patterns}` (integers, inlined).
_NEWEST_USES = (
    "(SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY pattern_id "
    "ORDER BY adopted_at DESC, id DESC) AS newness FROM community_pattern_use "
    "WHERE pattern_id IN ({patterns})) ranked WHERE newness <= {limit})"
)


async def uses_of(pattern_ids: Sequence[int], limit: int) -> dict[int, list[PatternUse]]:
    """The newest `limit` adoptions of each pattern, newest first, in one query (the store
    ranks each pattern's uses)."""
    found: dict[int, list[PatternUse]] = {int(pattern_id): [] for pattern_id in pattern_ids}
    if not found:
        return found
    patterns = ",".join(str(pattern_id) for pattern_id in found)
    newest = RawSQL(_NEWEST_USES.format(patterns=patterns, limit=int(limit)))
    for use in await PatternUse.filter(pattern_id__in=list(found), id__in=newest).order_by(
            "pattern_id", "-adopted_at", "-id"):
        found[use.pattern_id].append(use)
    return found


async def ratings_tally(caller: Caller) -> int:
    """Ratings of patterns `caller` may read (a communityStats tally)."""
    seen = Subquery(QualityPattern.filter(readable(caller)).values("id"))
    return await PatternRating.filter(pattern_id__in=seen).count()


async def upvotes_tally(caller: Caller) -> int:
    """Upvotes of practices `caller` may read (a communityStats tally)."""
    seen = Subquery(BestPractice.filter(readable(caller)).values("id"))
    return await PracticeVote.filter(practice_id__in=seen).count()
