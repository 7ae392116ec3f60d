"""Evidence queries, mutations and subscriptions. Resolvers stay thin: check, call, shape."""

from collections.abc import AsyncGenerator
from functools import partial
from typing import Annotated

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from arcos.auth.permissions import requires
from arcos.broker import channel
from arcos.evidence import service
from arcos.evidence.direct import EVIDENCE_LIST, listing
from arcos.evidence.drafts import FIELD_CONSTRAINTS, EvidenceDraft
from arcos.evidence.events import EVIDENCE_ADDED
from arcos.evidence.models import EvidenceRelation, RelationKind
from arcos.evidence.scopes import EVIDENCE_READ, EVIDENCE_WRITE
from arcos.evidence.types import (
    EVIDENCE_CURSOR,
    SLUG_BOUND,
    SOURCE_BOUND,
    TYPE_BOUND,
    EvidenceRelationType,
    EvidenceType,
    LinkEvidencePayload,
    ProjectConnection,
    ProjectEdge,
    ProjectType,
    SubmitEvidenceBatchPayload,
    SubmitEvidencePayload,
    evidence_field,
    parse_evidence_id,
)
from arcos.graphql.context import ArcosContext
from arcos.graphql.errors import payload_of
from arcos.graphql.live_events import live_events
from arcos.graphql.metadata import (
    COHORT,
    DIRECT_LIST,
    JSON_SCHEMA,
    PER_SUBSCRIBER_ARGUMENTS,
    SCOPES_ONLY,
)
from arcos.graphql.pagination import (
    check_page_size,
    decode_cursor,
    encode_cursor,
    page_info,
)
from arcos.store.resume import follow_after

PROJECT_CURSOR = "project"
READ = [requires(EVIDENCE_READ)]
WRITE = [requires(EVIDENCE_WRITE)]


@strawberry.input(description="One evidence item to store.")
class SubmitEvidenceInput:
    type: str = strawberry.field(
        description="What it is, e.g. test_results, security_scan.",
        metadata={JSON_SCHEMA: FIELD_CONSTRAINTS["identifier"]},
    )
    source: str = strawberry.field(
        description="What produced it, e.g. github, jenkins, bandit.",
        metadata={JSON_SCHEMA: FIELD_CONSTRAINTS["identifier"]},
    )
    data: JSON = strawberry.field(description="The content: a JSON object.")
    project: str | None = strawberry.field(
        default=None, description="Project slug such as github.com/owner/repo.",
        metadata={JSON_SCHEMA: FIELD_CONSTRAINTS["project"]},
    )
    commit_sha: str | None = strawberry.field(
        default=None, metadata={JSON_SCHEMA: FIELD_CONSTRAINTS["commit_sha"]}
    )
    ref: str | None = strawberry.field(
        default=None, metadata={JSON_SCHEMA: FIELD_CONSTRAINTS["ref"]}
    )
    metadata: JSON | None = None
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry-safe key: the same key from the same submitter returns the first "
        "result instead of writing twice.",
        metadata={JSON_SCHEMA: FIELD_CONSTRAINTS["idempotency_key"]},
    )

    def to_draft(self) -> EvidenceDraft:
        return EvidenceDraft(
            type=self.type, source=self.source, data=self.data, project=self.project,
            commit_sha=self.commit_sha, ref=self.ref, metadata=self.metadata,
            idempotency_key=self.idempotency_key,
        )


@strawberry.input
class SubmitEvidenceBatchInput:
    items: list[SubmitEvidenceInput] = strawberry.field(
        description="Stored all together or not at all; see the batch limit in the README.",
        metadata={JSON_SCHEMA: {"minItems": 1}},
    )


@strawberry.input
class LinkEvidenceInput:
    from_: strawberry.ID = strawberry.field(name="from")
    to: strawberry.ID
    relation: RelationKind


@strawberry.type
class EvidenceQueries:
    @strawberry.field(
        description="One evidence item by its id; null when there is none.", permission_classes=READ
    )
    async def evidence(self, id: strawberry.ID) -> EvidenceType | None:
        row = await service.find_evidence(parse_evidence_id(id))
        return EvidenceType.from_model(row) if row else None

    @strawberry.field(
        description="Offset listing, oldest first (the original API's form).",
        permission_classes=READ,
        # Documents selecting only stored columns skip the executor (evidence/direct.py).
        metadata={DIRECT_LIST: EVIDENCE_LIST},
    )
    async def evidence_list(
        self,
        info: Info[ArcosContext, None],
        type: Annotated[str | None, strawberry.argument(metadata=TYPE_BOUND)] = None,
        # Named in Python so it cannot collide with the `source` parameter strawberry's
        # PermissionExtension passes to resolvers.
        source_name: Annotated[
            str | None, strawberry.argument(name="source", metadata=SOURCE_BOUND)
        ] = None,
        project: Annotated[str | None, strawberry.argument(metadata=SLUG_BOUND)] = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[EvidenceType]:
        rows = await service.list_evidence(
            *listing(info.context, type, source_name, project, limit, offset)
        )
        return [EvidenceType.from_model(row) for row in rows]

    evidence_connection = evidence_field(
        "Keyset-paginated evidence with a total count.", lambda root: None
    )

    @strawberry.field(description="Projects in creation order.", permission_classes=READ)
    async def projects(
        self, info: Info[ArcosContext, None], first: int = 50, after: str | None = None
    ) -> ProjectConnection:
        check_page_size("first", first, info.context.settings.max_page_size)
        after_id = decode_cursor(PROJECT_CURSOR, after)
        rows, has_next = await service.list_projects(first, after_id)
        edges = [
            ProjectEdge(cursor=encode_cursor(PROJECT_CURSOR, p.id), node=ProjectType.from_model(p))
            for p in rows
        ]
        return ProjectConnection(
            edges=edges,
            page_info=page_info([edge.cursor for edge in edges], has_next, after),
        )

    @strawberry.field(
        description="One project by slug; null when there is none.", permission_classes=READ
    )
    async def project(
        self, slug: Annotated[str, strawberry.argument(metadata=SLUG_BOUND)]
    ) -> ProjectType | None:
        row = await service.find_project(slug)
        return ProjectType.from_model(row) if row else None


@strawberry.type
class EvidenceMutations:
    @strawberry.mutation(description="Store one evidence item.", permission_classes=WRITE)
    async def submit_evidence(
        self, info: Info[ArcosContext, None], input: SubmitEvidenceInput
    ) -> SubmitEvidencePayload:
        context = info.context

        async def submit() -> service.Submission:
            return await service.submit_evidence(input.to_draft(), context.write_context())

        return await payload_of(
            submit(),
            lambda submission: SubmitEvidencePayload(
                evidence=EvidenceType.from_model(submission.evidence, submission.canonical,
                                                  submission.evidence.project),
                replayed=submission.replayed,
                errors=[],
            ),
            partial(SubmitEvidencePayload, evidence=None, replayed=False),
        )

    @strawberry.mutation(
        description="Store several evidence items, all or none.", permission_classes=WRITE
    )
    async def submit_evidence_batch(
        self, info: Info[ArcosContext, None], input: SubmitEvidenceBatchInput
    ) -> SubmitEvidenceBatchPayload:
        context = info.context

        async def submit() -> list[service.Submission]:
            return await service.submit_evidence_batch(
                [item.to_draft() for item in input.items], context.write_context()
            )

        return await payload_of(
            submit(),
            lambda submissions: SubmitEvidenceBatchPayload(
                evidence=[EvidenceType.from_model(s.evidence, s.canonical, s.evidence.project)
                          for s in submissions],
                errors=[],
            ),
            partial(SubmitEvidenceBatchPayload, evidence=[]),
        )

    @strawberry.mutation(
        description="Record that one evidence item relates to another.", permission_classes=WRITE
    )
    async def link_evidence(
        self, info: Info[ArcosContext, None], input: LinkEvidenceInput
    ) -> LinkEvidencePayload:

        async def link() -> EvidenceRelation:
            return await service.link_evidence(
                parse_evidence_id(input.from_), parse_evidence_id(input.to),
                input.relation, info.context.write_context(),
            )

        return await payload_of(
            link(),
            lambda relation: LinkEvidencePayload(
                relation=EvidenceRelationType.from_model(relation), errors=[]
            ),
            partial(LinkEvidencePayload, relation=None),
        )


@strawberry.type
class EvidenceSubscriptions:
    @strawberry.subscription(
        description="Each new evidence item as it is committed, optionally filtered. With "
        "`after` (an earlier item's `cursor`) it first replays what was committed since, in "
        "commit order, then goes on live; nothing is missed or repeated.",
        permission_classes=READ,
        # What an item shows depends on the caller's scopes only; a replay (`after`) is
        # each subscriber's own.
        metadata={COHORT: SCOPES_ONLY, PER_SUBSCRIBER_ARGUMENTS: ("after",)},
    )
    async def evidence_added(
        self,
        info: Info[ArcosContext, None],
        type: Annotated[str | None, strawberry.argument(metadata=TYPE_BOUND)] = None,
        project: Annotated[str | None, strawberry.argument(metadata=SLUG_BOUND)] = None,
        after: str | None = None,
    ) -> AsyncGenerator[EvidenceType, None]:
        context = info.context
        wanted_project = project.strip().lower() if project else None
        topic = channel(EVIDENCE_ADDED, project=wanted_project, type=type)
        after_seq = decode_cursor(EVIDENCE_CURSOR, after)
        start = await service.resume_position(after_seq) if after_seq is not None else None
        query = service.EvidenceQuery(type=type, project=wanted_project)
        async with live_events(context, topic) as events:
            stream = events if start is None else follow_after(
                events, start, partial(service.added_after, query)
            )
            async for item in stream:
                context.next_event()
                if isinstance(item, dict):
                    yield EvidenceType.from_event(item)
                else:
                    yield EvidenceType.from_model(item)
