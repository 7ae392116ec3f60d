"""A principal's reputation: what others thought of what it shared.

Points: each rating another principal gave one of its patterns adds `stars - 1` (a
one-star rating adds nothing, five stars add four); each upvote another principal gave
one of its practices adds UPVOTE_POINTS. A principal's own ratings and votes never count
(they are refused when cast, and excluded here again).

Reputation depends on who reads it: only items the reader may read (`readable(caller)`)
count, and of those never one withdrawn, hidden or shared anonymised. An anonymised item
must not be traceable to its author by watching a reputation move when it is rated, and
an item the reader may not see (a private one, or a community one read anonymously) must
not show through a number that reader reads.
"""

from __future__ import annotations

from collections.abc import Sequence

from tortoise.expressions import Subquery
from tortoise.functions import Count, Sum

from arcos.auth.caller import Caller
from arcos.community.library_models import (
    BestPractice,
    PatternRating,
    PracticeVote,
    QualityPattern,
)
from arcos.community.sharing import SharedItem, readable

UPVOTE_POINTS = 2


def _counted(kind: type[SharedItem], caller: Caller, owners: list[str]) -> Subquery:
    """The ids of `owners`' items of `kind` whose ratings or votes count for `caller`."""
    return Subquery(kind.filter(readable(caller), owner__in=owners, withdrawn=False,
                                hidden=False, anonymized=False).values("id"))


async def reputation_of(names: Sequence[str], caller: Caller) -> dict[str, int]:
    """The reputation of each principal in `names` as `caller` may see it (0 for one
    nobody rated or upvoted on an item `caller` may read)."""
    wanted = list(dict.fromkeys(names))
    points = dict.fromkeys(wanted, 0)
    if not wanted:
        return points
    ratings = await PatternRating.filter(pattern_id__in=_counted(QualityPattern, caller, wanted)
                                         ).annotate(stars_sum=Sum("stars"), n=Count("id")
                                                    ).group_by("pattern__owner", "rater"
                                                               ).values_list(
        "pattern__owner", "rater", "stars_sum", "n")
    for owner, rater, stars, n in ratings:
        if rater != owner:
            points[owner] += int(stars) - int(n)
    votes = await PracticeVote.filter(practice_id__in=_counted(BestPractice, caller, wanted)
                                      ).annotate(n=Count("id")).group_by(
        "practice__owner", "voter").values_list("practice__owner", "voter", "n")
    for owner, voter, n in votes:
        if voter != owner:
            points[owner] += UPVOTE_POINTS * int(n)
    return points
