"""Root fields of the libraries: share, edit, list, search, rate, adopt and upvote.

Resolvers check, call a service, shape; the services (library_writes.py with the kinds
patterns.py and practices.py define, library_reads.py) hold the rules.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any, Generic, Protocol, TypeVar

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from arcos.auth.caller import Caller
from arcos.auth.permissions import requires
from arcos.community import library_reads, library_writes, patterns, practices
from arcos.community.library_input import PatternDraft, PracticeDraft
from arcos.community.library_models import BestPractice, LibraryCategory, QualityPattern
from arcos.community.library_search import MAX_QUERY_LENGTH
from arcos.community.library_types import (
    BestPracticeConnection,
    BestPracticePayload,
    BestPracticeType,
    LibraryEdge,
    PracticeVotePayload,
    QualityPatternConnection,
    QualityPatternPayload,
    QualityPatternType,
    RecordPatternUsePayload,
)
from arcos.community.library_writes import LibraryKind, Sharing
from arcos.community.scopes import COMMUNITY_READ, COMMUNITY_WRITE
from arcos.community.sharing import Visibility
from arcos.community.sharing_types import ItemId, parse_item_id
from arcos.graphql.context import ArcosContext
from arcos.graphql.errors import payload_of
from arcos.graphql.metadata import MAX_LENGTH
from arcos.graphql.pagination import PageRequest

READ = [requires(COMMUNITY_READ)]
WRITE = [requires(COMMUNITY_WRITE)]
PATTERN_CURSOR = "community-pattern"
PRACTICE_CURSOR = "community-practice"
PATTERN = "QualityPattern"
PRACTICE = "BestPractice"
Search = Annotated[str | None, strawberry.argument(
    description="Words every match holds (prefixes of words of its title, tags or "
    "keywords, description); best match first.", metadata={MAX_LENGTH: MAX_QUERY_LENGTH})]
Row = TypeVar("Row")


@strawberry.input(description="A quality pattern to share.")
class SharePatternInput:
    name: str
    category: LibraryCategory
    description: str
    pattern: JSON = strawberry.field(description="The pattern as a JSON object (at most 64 "
                                     "KiB). Its `metrics` list names the quality metrics it "
                                     "targets, e.g. [\"coverage.line_rate\"]: effectiveness "
                                     "is measured on them.")
    tags: list[str] = strawberry.field(default_factory=list)
    visibility: Visibility = Visibility.COMMUNITY
    anonymize: bool = strawberry.field(default=False, description="Hide the author from "
                                       "everyone but admins and scrub identifying text "
                                       "before it is stored.")

    def draft(self) -> PatternDraft:
        return PatternDraft(name=self.name, category=self.category.value,
                            description=self.description, pattern=self.pattern,
                            tags=list(self.tags))


@strawberry.input(description="Changes to a pattern you shared; fields left out stay.")
class UpdatePatternInput:
    name: str | None = None
    category: LibraryCategory | None = None
    description: str | None = None
    pattern: JSON | None = None
    tags: list[str] | None = None
    visibility: Visibility | None = None

    def draft(self) -> PatternDraft:
        return PatternDraft(name=self.name, category=self.category.value if self.category
                            else None, description=self.description, pattern=self.pattern,
                            tags=list(self.tags) if self.tags is not None else None)


@strawberry.input(description="A best practice to share.")
class AddPracticeInput:
    title: str
    category: LibraryCategory
    description: str
    industry: str | None = None
    steps: list[str] = strawberry.field(default_factory=list)
    examples: list[str] = strawberry.field(default_factory=list)
    references: list[str] = strawberry.field(default_factory=list)
    visibility: Visibility = Visibility.COMMUNITY
    anonymize: bool = strawberry.field(default=False, description="Hide the author from "
                                       "everyone but admins and scrub identifying text "
                                       "before it is stored.")

    def draft(self) -> PracticeDraft:
        return PracticeDraft(title=self.title, category=self.category.value,
                             industry=self.industry or "", description=self.description,
                             steps=list(self.steps), examples=list(self.examples),
                             references=list(self.references))


@strawberry.input(description="Changes to a practice you shared; fields left out stay.")
class UpdatePracticeInput:
    title: str | None = None
    category: LibraryCategory | None = None
    description: str | None = None
    industry: str | None = None
    steps: list[str] | None = None
    examples: list[str] | None = None
    references: list[str] | None = None
    visibility: Visibility | None = None

    def draft(self) -> PracticeDraft:
        return PracticeDraft(title=self.title, category=self.category.value if self.category
                             else None, industry=self.industry, description=self.description,
                             steps=self.steps, examples=self.examples,
                             references=self.references)


class _Edit(Protocol):
    """An input that edits an item: the draft it makes, and the visibility it asks for."""

    visibility: Visibility | None

    def draft(self) -> Any: ...


class _Share(Protocol):
    """An input that shares a new item."""

    visibility: Visibility
    anonymize: bool

    def draft(self) -> Any: ...


@dataclass(frozen=True)
class _View(Generic[Row]):
    """How one kind of item shows in the schema: what its listing and its writes answer."""

    kind: LibraryKind[Any, Row]
    #: Its GraphQL type's name, which its global ids carry.
    type_name: str
    cursor: str
    node: Callable[[Row], Any]
    read: Callable[[library_reads.LibraryQuery, Caller, int, int],
                   Awaitable[library_reads.LibraryPage[Row]]]
    connection: Callable[..., Any]
    payload: Callable[..., Any]
    #: The payload's field that holds the item.
    payload_field: str

    async def page(self, query: library_reads.LibraryQuery, info: Info[ArcosContext, None],
                   first: int, after: str | None) -> Any:
        """One page of the listing, its cursors counting rows from the listing's start."""
        request = PageRequest.of(self.cursor, first, after, info.context.settings.max_page_size)
        found = await self.read(query, info.context.caller, first, request.start)
        page = request.by_offset(found.rows, found.has_next)
        return self.connection(edges=page.edges(LibraryEdge, self.node), page_info=page.info,
                               total_count=found.total)

    async def share(self, input: _Share, info: Info[ArcosContext, None]) -> Any:
        """The payload of sharing a new item."""
        context = info.context
        return await self.answer(library_writes.share(
            self.kind, input.draft(), Sharing(input.visibility, input.anonymize),
            context.caller, context.write_context()))

    async def update(self, raw_id: str, input: _Edit, info: Info[ArcosContext, None]) -> Any:
        """The payload of editing the item `raw_id` names."""
        context = info.context
        return await self.answer(library_writes.update(
            self.kind, parse_item_id(raw_id, self.type_name), input.draft(),
            visibility=input.visibility, caller=context.caller,
            write=context.write_context()))

    async def answer(self, write: Awaitable[Row]) -> Any:
        """The payload of a write: the item it left, or the errors it was refused with."""
        return await payload_of(
            write, lambda row: self.payload(**{self.payload_field: self.node(row)}, errors=[]),
            partial(self.payload, **{self.payload_field: None}))


PATTERN_VIEW: _View[QualityPattern] = _View(
    patterns.PATTERN_KIND, PATTERN, PATTERN_CURSOR, QualityPatternType.from_model,
    library_reads.page_patterns, QualityPatternConnection, QualityPatternPayload, "pattern")
PRACTICE_VIEW: _View[BestPractice] = _View(
    practices.PRACTICE_KIND, PRACTICE, PRACTICE_CURSOR, BestPracticeType.from_model,
    library_reads.page_practices, BestPracticeConnection, BestPracticePayload, "practice")


@strawberry.type
class LibraryQueries:
    @strawberry.field(description="Quality patterns you may read: newest first, or best "
                      "match first with `search`.", permission_classes=READ)
    async def patterns(
        self, info: Info[ArcosContext, None], category: LibraryCategory | None = None,
        search: Search = None,
        tag: Annotated[str | None, strawberry.argument(metadata={MAX_LENGTH: 50})] = None,
        first: int = 20, after: str | None = None,
    ) -> QualityPatternConnection:
        return await PATTERN_VIEW.page(
            library_reads.LibraryQuery(category=category, search=search, tag=tag),
            info, first, after)

    @strawberry.field(description="Best practices you may read: newest first, or best "
                      "match first with `search`.", permission_classes=READ)
    async def practices(
        self, info: Info[ArcosContext, None], category: LibraryCategory | None = None,
        industry: Annotated[str | None, strawberry.argument(metadata={MAX_LENGTH: 64})]
        = None,
        search: Search = None, first: int = 20, after: str | None = None,
    ) -> BestPracticeConnection:
        return await PRACTICE_VIEW.page(
            library_reads.LibraryQuery(category=category, search=search, industry=industry),
            info, first, after)


async def _vote_payload(vote: Awaitable[practices.Vote]) -> PracticeVotePayload:
    return await payload_of(
        vote, lambda done: PracticeVotePayload(
            practice=BestPracticeType.from_model(done.practice), changed=done.changed,
            errors=[]),
        partial(PracticeVotePayload, practice=None, changed=False))


def _pattern_used(found: tuple[QualityPattern, Any]) -> RecordPatternUsePayload:
    row, use = found
    return RecordPatternUsePayload(pattern=QualityPatternType.from_model(row),
                                   project=use.project, adopted_at=use.adopted_at, errors=[])


@strawberry.type
class LibraryMutations:
    @strawberry.mutation(description="Share a quality pattern.", permission_classes=WRITE)
    async def share_pattern(
        self, info: Info[ArcosContext, None], input: SharePatternInput
    ) -> QualityPatternPayload:
        return await PATTERN_VIEW.share(input, info)

    @strawberry.mutation(description="Edit a pattern you shared (admins: any).",
                         permission_classes=WRITE)
    async def update_pattern(
        self, info: Info[ArcosContext, None], id: ItemId, input: UpdatePatternInput
    ) -> QualityPatternPayload:
        return await PATTERN_VIEW.update(id, input, info)

    @strawberry.mutation(description="Give a pattern someone else shared 1-5 stars; rating "
                         "it again replaces your stars.", permission_classes=WRITE)
    async def rate_pattern(
        self, info: Info[ArcosContext, None], id: ItemId, stars: int
    ) -> QualityPatternPayload:
        context = info.context
        return await PATTERN_VIEW.answer(patterns.rate_pattern(
            parse_item_id(id, PATTERN), stars, context.caller, context.write_context()))

    @strawberry.mutation(description="Record that a project adopted a pattern (now): its "
                         "effectiveness compares the project's metrics then and later.",
                         permission_classes=WRITE)
    async def record_pattern_use(
        self, info: Info[ArcosContext, None], id: ItemId,
        project: Annotated[str, strawberry.argument(metadata={MAX_LENGTH: 255})],
    ) -> RecordPatternUsePayload:
        context = info.context
        return await payload_of(
            patterns.record_use(parse_item_id(id, PATTERN), project, context.caller,
                                context.write_context()),
            _pattern_used,
            partial(RecordPatternUsePayload, pattern=None, project=None, adopted_at=None))

    @strawberry.mutation(description="Share a best practice.", permission_classes=WRITE)
    async def add_practice(
        self, info: Info[ArcosContext, None], input: AddPracticeInput
    ) -> BestPracticePayload:
        return await PRACTICE_VIEW.share(input, info)

    @strawberry.mutation(description="Edit a practice you shared (admins: any).",
                         permission_classes=WRITE)
    async def update_practice(
        self, info: Info[ArcosContext, None], id: ItemId, input: UpdatePracticeInput
    ) -> BestPracticePayload:
        return await PRACTICE_VIEW.update(id, input, info)

    @strawberry.mutation(description="Upvote a practice someone else shared; each principal "
                         "counts once.", permission_classes=WRITE)
    async def upvote_practice(
        self, info: Info[ArcosContext, None], id: ItemId
    ) -> PracticeVotePayload:
        context = info.context
        return await _vote_payload(practices.upvote(
            parse_item_id(id, PRACTICE), context.caller, context.write_context()))

    @strawberry.mutation(description="Take your upvote of a practice back.",
                         permission_classes=WRITE)
    async def withdraw_upvote(
        self, info: Info[ArcosContext, None], id: ItemId
    ) -> PracticeVotePayload:
        context = info.context
        return await _vote_payload(practices.withdraw_upvote(
            parse_item_id(id, PRACTICE), context.caller, context.write_context()))
