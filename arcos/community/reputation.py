"""A principal's reputation: what others thought of what it shared.

Points: each rating another principal gave one of its patterns adds `stars - 1` (a
one-star rating adds nothing, five stars add four); each upvote another principal gave
one of its practices adds UPVOTE_POINTS. A principal's own ratings and votes never count
(they are refused when cast, and excluded here again).

Only items that are public or community, neither withdrawn nor hidden, nor shared
anonymised count: an anonymised item must not be traceable to its author by watching a
reputation move when it is rated, and a private item must not show through a number
others read.
"""

from __future__ import annotations

from collections.abc import Sequence

from tortoise.expressions import Q
from tortoise.functions import Count, Sum

from arcos.community.library_models import PatternRating, PracticeVote
from arcos.community.sharing import Visibility

UPVOTE_POINTS = 2


def _counted(relation: str) -> Q:
    """The items whose ratings or votes count, seen through `relation` (the FK name)."""
    return Q(**{
        f"{relation}__withdrawn": False, f"{relation}__hidden": False,
        f"{relation}__anonymized": False,
        f"{relation}__visibility__in": [Visibility.PUBLIC, Visibility.COMMUNITY],
    })


async def reputation_of(names: Sequence[str]) -> dict[str, int]:
    """The reputation of each principal in `names` (0 for one nobody rated or upvoted)."""
    wanted = list(dict.fromkeys(names))
    points = dict.fromkeys(wanted, 0)
    if not wanted:
        return points
    ratings = await PatternRating.filter(_counted("pattern"), pattern__owner__in=wanted
                                         ).annotate(stars_sum=Sum("stars"), n=Count("id")
                                                    ).group_by("pattern__owner", "rater"
                                                               ).values_list(
        "pattern__owner", "rater", "stars_sum", "n")
    for owner, rater, stars, n in ratings:
        if rater != owner:
            points[owner] += int(stars) - int(n)
    votes = await PracticeVote.filter(_counted("practice"), practice__owner__in=wanted
                                      ).annotate(n=Count("id")).group_by(
        "practice__owner", "voter").values_list("practice__owner", "voter", "n")
    for owner, voter, n in votes:
        if voter != owner:
            points[owner] += UPVOTE_POINTS * int(n)
    return points
