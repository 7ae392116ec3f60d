"""`communityStats`: what the community holds, counted as the caller sees it.

Every count reads through `readable(caller)`, so a private item changes no number a reader
who cannot see it gets back.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.functions import Count

from arcos.auth.caller import Caller
from arcos.community.kinds import KINDS, TALLIES
from arcos.community.sharing import Visibility, is_admin


@dataclass(frozen=True)
class KindCounts:
    kind: str
    by_visibility: dict[Visibility, int]

    @property
    def total(self) -> int:
        return sum(self.by_visibility.values())


@dataclass(frozen=True)
class CommunityStats:
    kinds: list[KindCounts]
    #: Distinct principals named as the author of an item the caller may read. An item
    #: shared anonymised names nobody (but to admins), so it adds no contributor: counting
    #: its owner would tell readers whether that author also shares under their name.
    contributors: int
    tallies: dict[str, int]
    votes: int
    imports: int


async def community_stats(caller: Caller) -> CommunityStats:
    """Counts by kind and visibility, contributors, votes and imports, for `caller`."""
    kinds: list[KindCounts] = []
    owners: set[str] = set()
    for kind in KINDS:
        seen = kind.model.filter(kind.readable(caller))
        rows = await seen.annotate(n=Count("id")).group_by("visibility").values_list(
            "visibility", "n")
        counts = {visibility: 0 for visibility in Visibility}
        for visibility, n in rows:
            counts[Visibility(visibility)] += n
        kinds.append(KindCounts(kind.name, counts))
        named = seen if is_admin(caller) else seen.filter(anonymized=False)
        owners.update(await named.distinct().values_list("owner", flat=True))
    tallies = {tally.name: await tally.count(caller) for tally in TALLIES}
    by_category = {
        category: sum(tallies[t.name] for t in TALLIES if t.category == category)
        for category in ("votes", "imports")
    }
    return CommunityStats(kinds, len(owners), tallies, by_category["votes"],
                          by_category["imports"])
