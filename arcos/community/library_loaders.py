"""DataLoaders of the libraries' fields (see arcos/graphql/loaders.py): one query for every
item a response shows, whatever the page size.

`ReputationByName` is the one the community's author fields use: any shared kind can show
its author's reputation through it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from arcos.auth.caller import Caller
from arcos.community import effectiveness as measuring
from arcos.community import library_reads
from arcos.community.library_models import PatternUse, PracticeVote
from arcos.community.library_reads import Ratings
from arcos.community.reputation import reputation_of
from arcos.graphql.loaders import ContextLoader

if TYPE_CHECKING:
    from arcos.graphql.context import ArcosContext


class ReputationByName(ContextLoader[str, int]):
    """The reputation of each principal name as the request's caller may see it
    (arcos/community/reputation.py): the loader lives in one request's context, so it
    keeps that context's caller."""

    caller: Caller

    def __new__(cls, context: ArcosContext) -> Self:  # type: ignore[misc]
        loader = super().__new__(cls, context)
        loader.caller = context.caller
        return loader

    async def batch_load(self, keys: list[str]) -> list[int]:
        found = await reputation_of(keys, self.caller)
        return [found[key] for key in keys]


class RatingsByPattern(ContextLoader[int, Ratings]):
    async def batch_load(self, keys: list[int]) -> list[Ratings]:
        found = await library_reads.rating_summaries(keys)
        return [found[key] for key in keys]


class UsesByPattern(ContextLoader[int, int]):
    async def batch_load(self, keys: list[int]) -> list[int]:
        found = await library_reads.counts(PatternUse, "pattern_id", keys)
        return [found[key] for key in keys]


class AdoptionsByPattern(ContextLoader[tuple[int, int, tuple[str, ...]], list[measuring.Adoption]]):
    """A pattern's newest adoptions with the change of each metric it targets: key
    (pattern id, how many adoptions, its metrics). One query for the uses of every pattern
    on the page (per page size asked), and four for all their metric values."""

    async def batch_load(self, keys: list[tuple[int, int, tuple[str, ...]]]
                         ) -> list[list[measuring.Adoption]]:
        metrics_of = {pattern_id: metrics for pattern_id, _, metrics in keys}
        uses: dict[tuple[int, int], list[PatternUse]] = {}
        for limit in {limit for _, limit, _ in keys}:
            found = await library_reads.uses_of(
                [pattern_id for pattern_id, wanted, _ in keys if wanted == limit], limit)
            uses.update({(pattern_id, limit): rows for pattern_id, rows in found.items()})
        measured = await measuring.effectiveness(
            [use for rows in uses.values() for use in rows], metrics_of)
        by_use = dict(zip([id(use) for rows in uses.values() for use in rows], measured,
                          strict=True))
        return [[by_use[id(use)] for use in uses[(pattern_id, limit)]]
                for pattern_id, limit, _ in keys]


class VotesByPractice(ContextLoader[int, int]):
    async def batch_load(self, keys: list[int]) -> list[int]:
        found = await library_reads.counts(PracticeVote, "practice_id", keys)
        return [found[key] for key in keys]


class OwnRating(ContextLoader[tuple[int, str], int | None]):
    """The stars a principal gave a pattern: key (pattern id, principal)."""

    async def batch_load(self, keys: list[tuple[int, str]]) -> list[int | None]:
        by_rater: dict[str, dict[int, int]] = {}
        for rater in {rater for _, rater in keys}:
            by_rater[rater] = await library_reads.own_ratings(
                [pid for pid, name in keys if name == rater], rater)
        return [by_rater[rater].get(pid) for pid, rater in keys]


class OwnVote(ContextLoader[tuple[int, str], bool]):
    """Whether a principal upvoted a practice: key (practice id, principal)."""

    async def batch_load(self, keys: list[tuple[int, str]]) -> list[bool]:
        by_voter: dict[str, set[int]] = {}
        for voter in {voter for _, voter in keys}:
            by_voter[voter] = await library_reads.own_votes(
                [pid for pid, name in keys if name == voter], voter)
        return [pid in by_voter[voter] for pid, voter in keys]
