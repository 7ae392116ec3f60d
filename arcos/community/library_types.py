"""GraphQL types of the libraries: patterns and practices, their pages and payloads.

Types are built from rows the caller may read (every read path filters with
`readable(caller)`, `resolve_nodes` too); tallies come through the loaders, one query per
response level.
"""

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Generic, TypeVar

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from arcos.auth.permissions import requires
from arcos.community import effectiveness as measuring
from arcos.community.library_items import Item
from arcos.community.library_loaders import (
    AdoptionsByPattern,
    OwnRating,
    OwnVote,
    RatingsByPattern,
    UsesByPattern,
    VotesByPractice,
)
from arcos.community.library_models import BestPractice, LibraryCategory, QualityPattern
from arcos.community.library_reads import items_by_uid
from arcos.community.sharing import Visibility
from arcos.community.sharing_types import CommunityAuthor, author_of
from arcos.evidence.scopes import EVIDENCE_READ
from arcos.graphql.context import ArcosContext
from arcos.graphql.errors import UserError
from arcos.graphql.pagination import check_page_size

READ_EVIDENCE = [requires(EVIDENCE_READ)]
#: Most adoptions one `effectiveness` answer lists.
MAX_ADOPTIONS = 20
NodeT = TypeVar("NodeT")

strawberry.enum(LibraryCategory, name="LibraryCategory",
                description="What a quality pattern or best practice is about.")


def _valid_uids(node_ids: Iterable[str]) -> list[str]:
    valid = []
    for node_id in node_ids:
        try:
            valid.append(str(uuid.UUID(node_id)))
        except ValueError:
            continue
    return valid


async def _readable_nodes(
    model: type[Item], from_model: Callable[[Item], NodeT], info: Info,
    node_ids: Iterable[str],
) -> list[NodeT | None]:
    """The nodes of `node_ids` in order, None where the caller may not read one (or there is
    none): relay's `node`/`nodes` answer like the listings do."""
    ids = list(node_ids)
    rows = await items_by_uid(model, _valid_uids(ids), info.context.caller)
    return [from_model(rows[i]) if i in rows else None for i in ids]


@strawberry.type(name="MetricChange", description="One targeted metric of an adopting "
                 "project: its value at or just before the adoption and its newest value "
                 "since; null where there is none.")
class MetricChangeType:
    metric: str
    before: float | None
    before_at: datetime | None
    after: float | None
    after_at: datetime | None
    change: float | None = strawberry.field(description="after - before; null unless both "
                                            "are known.")

    @classmethod
    def of(cls, change: measuring.MetricChange) -> "MetricChangeType":
        before, after = change.before, change.after
        return cls(metric=change.metric, before=before.value if before else None,
                   before_at=before.at if before else None,
                   after=after.value if after else None, after_at=after.at if after else None,
                   change=change.change)


@strawberry.type(name="PatternAdoption", description="A project that adopted a pattern, and "
                 "what its targeted metrics did since.")
class PatternAdoptionType:
    project: str
    adopted_at: datetime
    metrics: list[MetricChangeType]

    @classmethod
    def of(cls, adoption: measuring.Adoption) -> "PatternAdoptionType":
        return cls(project=adoption.project, adopted_at=adoption.adopted_at,
                   metrics=[MetricChangeType.of(c) for c in adoption.changes])


@strawberry.type(name="QualityPattern", description="A reusable way of reaching a quality "
                 "goal, shared with the community.")
class QualityPatternType(relay.Node):
    uid: relay.NodeID[str]
    name: str
    category: LibraryCategory
    description: str
    pattern: JSON
    tags: list[str]
    metrics: list[str] = strawberry.field(description="The quality metrics it targets (its "
                                          "pattern's `metrics` list).")
    visibility: Visibility
    anonymized: bool
    hidden: bool
    created_at: datetime
    updated_at: datetime
    row: strawberry.Private[QualityPattern]

    @classmethod
    def from_model(cls, row: QualityPattern) -> "QualityPatternType":
        return cls(
            uid=str(row.uid), name=row.name, category=LibraryCategory(row.category),
            description=row.description, pattern=row.pattern, tags=list(row.tags or []),
            metrics=list(row.metrics or []), visibility=Visibility(row.visibility),
            anonymized=row.anonymized, hidden=row.hidden, created_at=row.created_at,
            updated_at=row.updated_at, row=row,
        )

    @strawberry.field(description="Who shared it; null when shared anonymised.")
    async def author(self, info: Info[ArcosContext, None]) -> CommunityAuthor | None:
        return await author_of(self.row, info)

    @strawberry.field(description="Average stars (1-5) others gave it; null before any.")
    async def average_rating(self, info: Info[ArcosContext, None]) -> float | None:
        return (await RatingsByPattern(info.context).load(self.row.id)).average

    @strawberry.field(description="How many principals rated it.")
    async def rating_count(self, info: Info[ArcosContext, None]) -> int:
        return (await RatingsByPattern(info.context).load(self.row.id)).count

    @strawberry.field(description="Your stars for it, if you rated it.")
    async def my_rating(self, info: Info[ArcosContext, None]) -> int | None:
        return await OwnRating(info.context).load((self.row.id, info.context.caller.name))

    @strawberry.field(description="How many projects recorded adopting it.")
    async def usage_count(self, info: Info[ArcosContext, None]) -> int:
        return await UsesByPattern(info.context).load(self.row.id)

    @strawberry.field(description="For each adopting project (newest adoptions first), the "
                      "change of each metric it targets between the adoption and now. Metric "
                      "values are evidence: this needs evidence:read.",
                      permission_classes=READ_EVIDENCE)
    async def effectiveness(
        self, info: Info[ArcosContext, None], first: int = 10
    ) -> list[PatternAdoptionType]:
        check_page_size("first", first, MAX_ADOPTIONS)
        adoptions = await AdoptionsByPattern(info.context).load(
            (self.row.id, first, tuple(self.metrics)))
        return [PatternAdoptionType.of(adoption) for adoption in adoptions]

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> "list[QualityPatternType | None]":
        return await _readable_nodes(QualityPattern, cls.from_model, info, node_ids)


@strawberry.type(name="BestPractice", description="A practice described in steps, with "
                 "examples and references, shared with the community.")
class BestPracticeType(relay.Node):
    uid: relay.NodeID[str]
    title: str
    category: LibraryCategory
    industry: str | None
    description: str
    steps: list[str]
    examples: list[str]
    references: list[str]
    visibility: Visibility
    anonymized: bool
    hidden: bool
    created_at: datetime
    updated_at: datetime
    row: strawberry.Private[BestPractice]

    @classmethod
    def from_model(cls, row: BestPractice) -> "BestPracticeType":
        return cls(
            uid=str(row.uid), title=row.title, category=LibraryCategory(row.category),
            industry=row.industry, description=row.description, steps=list(row.steps or []),
            examples=list(row.examples or []), references=list(row.references or []),
            visibility=Visibility(row.visibility), anonymized=row.anonymized, hidden=row.hidden,
            created_at=row.created_at, updated_at=row.updated_at, row=row,
        )

    @strawberry.field(description="Who shared it; null when shared anonymised.")
    async def author(self, info: Info[ArcosContext, None]) -> CommunityAuthor | None:
        return await author_of(self.row, info)

    @strawberry.field(description="How many principals upvoted it (each once).")
    async def upvotes(self, info: Info[ArcosContext, None]) -> int:
        return await VotesByPractice(info.context).load(self.row.id)

    @strawberry.field(description="Whether you upvoted it.")
    async def upvoted_by_me(self, info: Info[ArcosContext, None]) -> bool:
        return await OwnVote(info.context).load((self.row.id, info.context.caller.name))

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> "list[BestPracticeType | None]":
        return await _readable_nodes(BestPractice, cls.from_model, info, node_ids)


@strawberry.type(name="Edge")
class LibraryEdge(Generic[NodeT]):
    """An edge of a page of nodes; strawberry names each use after its node and this
    type's name, e.g. QualityPatternEdge."""

    cursor: str
    node: NodeT


@strawberry.type
class LibraryConnection(Generic[NodeT]):
    """One page of nodes; each kind subclasses it to name itself and say what its total
    counts (GraphQL descriptions cannot vary with a type argument)."""

    edges: list[LibraryEdge[NodeT]]
    page_info: relay.PageInfo
    total_count: int

    @strawberry.field
    def nodes(self) -> list[NodeT]:
        return [edge.node for edge in self.edges]


@strawberry.type(name="QualityPatternConnection", description="One page of the patterns "
                 "you may read; with `search`, best match first, else newest first.")
class QualityPatternConnection(LibraryConnection[QualityPatternType]):
    total_count: int = strawberry.field(description="Patterns matching, across all pages, "
                                        "of those you may read.")


@strawberry.type(name="BestPracticeConnection", description="One page of the practices you "
                 "may read; with `search`, best match first, else newest first.")
class BestPracticeConnection(LibraryConnection[BestPracticeType]):
    total_count: int = strawberry.field(description="Practices matching, across all pages, "
                                        "of those you may read.")


@strawberry.type
class QualityPatternPayload:
    pattern: QualityPatternType | None
    errors: list[UserError]


@strawberry.type
class RecordPatternUsePayload:
    pattern: QualityPatternType | None
    project: str | None
    adopted_at: datetime | None = strawberry.field(description="When the project adopted "
                                                   "it (the first record's date).")
    errors: list[UserError]


@strawberry.type
class BestPracticePayload:
    practice: BestPracticeType | None
    errors: list[UserError]


@strawberry.type
class PracticeVotePayload:
    practice: BestPracticeType | None
    changed: bool = strawberry.field(description="Whether this call changed the vote (false: "
                                     "you had already upvoted, or had not).")
    errors: list[UserError]
