"""GraphQL types of the evidence domain, built from models or from broker events."""

import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from arcos.auth.permissions import requires
from arcos.evidence import models, service
from arcos.evidence.events import ascii_json, ascii_text
from arcos.evidence.loaders import (
    EvidenceBySeq,
    EvidenceCountByProject,
    ProjectById,
    RelationsBySeq,
    StoredJsonBySeq,
)
from arcos.evidence.models import RelationKind
from arcos.evidence.scopes import EVIDENCE_READ
from arcos.graphql.budget import charge_response
from arcos.graphql.context import ArcosContext
from arcos.graphql.errors import UserError
from arcos.graphql.global_ids import node_uid
from arcos.graphql.metadata import column_bound
from arcos.graphql.pagination import check_page_size, decode_cursor, encode_cursor, page_info

# Only the table, for the bound of `latestMetrics(names:)`; the rest of the intake domain
# (which builds on evidence) is imported where it is used.
from arcos.intake.models import QualityMetric
from arcos.problems import BadUserInput
from arcos.web.preencoded import PreEncodedJSON

if TYPE_CHECKING:
    from arcos.intake.types import QualityMetricType

#: Bounds of string arguments compared with columns (checked by arcos.graphql.bounds).
TYPE_BOUND = column_bound(models.Evidence, "type")
SOURCE_BOUND = column_bound(models.Evidence, "source")
COMMIT_SHA_BOUND = column_bound(models.Evidence, "commit_sha")
SLUG_BOUND = column_bound(models.Project, "slug")
METRIC_NAME_BOUND = column_bound(QualityMetric, "name")

EVIDENCE_CURSOR = "evidence"
#: Fields that reach evidence other than the object in hand need `evidence:read` even when
#: the object itself came back from a mutation a write-only token may run.
READ = [requires(EVIDENCE_READ)]

# The one RelationKind is the plain enum in models (services use it without strawberry);
# this registers its GraphQL name and description on that same class.
strawberry.enum(
    RelationKind, name="EvidenceRelationKind",
    description="How one evidence item relates to another.",
)


@strawberry.enum(description="Order of a listing by creation.")
class OrderDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"


def parse_evidence_id(raw: str) -> uuid.UUID:
    """An evidence UUID from a global Node id (`Evidence:<uuid>` in base64) or a bare UUID."""
    return node_uid(raw, "Evidence", "an evidence", "an Evidence")


def evidence_field(description: str, project_of: Callable[[Any], str | None]) -> Any:
    """A keyset-paged evidence listing field: `evidenceConnection` on Query, `evidence` on
    Project (`project_of` reads which project the parent limits it to, if any)."""

    async def resolve(
        root: Any,
        info: Info[ArcosContext, None],
        first: int = 50,
        after: str | None = None,
        filter: "EvidenceFilter | None" = None,
        order: OrderDirection = OrderDirection.ASC,
    ) -> "EvidenceConnection":
        query = (filter or EvidenceFilter()).to_query(project=project_of(root))
        return await EvidenceConnection.page(info, query, first, after, order)

    return strawberry.field(resolver=resolve, description=description, permission_classes=READ)


@strawberry.type(name="Project", description="A software project evidence is about.")
class ProjectType(relay.Node):
    key: relay.NodeID[str]
    slug: str = strawberry.field(description="Such as github.com/owner/repo; always lower case.")
    created_at: datetime
    db_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, project: models.Project) -> "ProjectType":
        return cls(
            key=project.slug, slug=project.slug, created_at=project.created_at, db_id=project.id
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> "list[ProjectType | None]":
        ids = list(node_ids)
        rows = {p.slug: p for p in await models.Project.filter(slug__in=ids)}
        return [cls.from_model(rows[i]) if i in rows else None for i in ids]

    @strawberry.field(
        description="How many evidence items belong to this project.", permission_classes=READ
    )
    async def evidence_count(self, info: Info[ArcosContext, None]) -> int:
        return await EvidenceCountByProject(info.context).load(self.db_id)

    @strawberry.field(
        description="The newest value of each quality metric (or of `names`).",
        permission_classes=READ,
    )
    async def latest_metrics(
        self,
        info: Info[ArcosContext, None],
        names: Annotated[list[str] | None, strawberry.argument(metadata=METRIC_NAME_BOUND)] = None,
    ) -> 'list[Annotated[QualityMetricType, strawberry.lazy("arcos.intake.types")]]':
        # Imported here: the intake domain builds on evidence, not the other way round.
        from arcos.intake.loaders import LatestMetricsByProject
        from arcos.intake.types import QualityMetricType as Metric

        wanted = tuple(names) if names else None
        rows = await LatestMetricsByProject(info.context).load((self.db_id, wanted))
        return [Metric.from_model(row) for row in rows]

    evidence = evidence_field(
        "This project's evidence, oldest first unless ordered.", lambda project: project.slug
    )


@strawberry.type(name="Evidence", description="One stored, append-only piece of evidence.")
class EvidenceType(relay.Node):
    uid: relay.NodeID[str]
    type: str
    source: str
    commit_sha: str | None
    ref: str | None
    data_size: int = strawberry.field(
        description="Bytes of `data` as responses carry it: canonical JSON with non-ASCII "
        "characters escaped. Select it instead of `data` to size items in a listing; a "
        "response carries at most ARCOS_MAX_RESPONSE_BYTES of `data` and `metadata` "
        "(RESPONSE_TOO_LARGE above)."
    )
    sha256: str = strawberry.field(
        description="Hex SHA-256 of `data` as canonical JSON (sorted keys, no spaces, UTF-8)."
    )
    submitted_by: str = strawberry.field(description="The principal that submitted it.")
    created_at: datetime
    seq: strawberry.Private[int]
    project_id: strawberry.Private[int | None]
    metadata_size: strawberry.Private[int]
    #: Values already in hand (a broker event's canonical text); others are loaded.
    encoded: strawberry.Private[dict[str, PreEncodedJSON]]
    #: The project when a write has its row in hand; else `project` loads it.
    known_project: strawberry.Private[models.Project | None] = None

    @classmethod
    def from_model(
        cls, evidence: models.Evidence, canonical: dict[str, bytes] | None = None,
        project: models.Project | None = None,
    ) -> "EvidenceType":
        """From a stored row; `data` and `metadata` need not have been selected.

        `canonical`: the values' encoding a write just made, answered as it is rather
        than read back from the store, decoded and encoded again. `project`: the row of
        `evidence.project_id` when the write has it (it looked the slug up), so the
        payload's `project` costs no second read.
        """
        encoded = {
            name: PreEncodedJSON(ascii_json(getattr(evidence, name), text))
            for name, text in (canonical or {}).items()
        }
        return cls(
            uid=str(evidence.uid), type=evidence.type, source=evidence.source,
            commit_sha=evidence.commit_sha, ref=evidence.ref, data_size=evidence.data_size,
            sha256=evidence.sha256, submitted_by=evidence.submitted_by,
            created_at=evidence.created_at, seq=evidence.seq, project_id=evidence.project_id,
            metadata_size=evidence.metadata_size, encoded=encoded,
            # (an unfetched relation is a query, not a row: only a row in hand counts)
            known_project=project if isinstance(project, models.Project)
            and project.id == evidence.project_id else None,
        )

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> "EvidenceType":
        return cls(
            uid=event["uid"], type=event["type"], source=event["source"],
            commit_sha=event["commit_sha"], ref=event["ref"], data_size=event["data_size"],
            sha256=event["sha256"], submitted_by=event["submitted_by"],
            created_at=datetime.fromisoformat(event["created_at"]),
            seq=event["seq"], project_id=event["project_id"],
            metadata_size=event["metadata_size"],
            encoded={name: PreEncodedJSON(event[f"{name}_json"]) for name in models.LARGE_VALUES},
        )

    # `data`, `metadata` and `project` are plain resolvers that answer the value in hand
    # (what a write or an event holds) at once and an awaitable only when it must be
    # loaded: a mutation's payload then needs no async field, and its compiled walk
    # (arcos/graphql/direct_walk.py) answers it; graphql-core awaits the others.
    @strawberry.field(description="The evidence content: a JSON object.", graphql_type=JSON)
    def data(self, info: Info[ArcosContext, None]) -> Any:
        return self._json_value(info, "data", self.data_size)

    @strawberry.field(graphql_type=JSON)
    def metadata(self, info: Info[ArcosContext, None]) -> Any:
        return self._json_value(info, "metadata", self.metadata_size)

    def _json_value(self, info: Info[ArcosContext, None], name: str, size: int) -> Any:
        """Charge the response budget, then the value in hand, or an awaitable that loads
        it."""
        charge_response(info.context.settings.max_response_bytes, size)
        if name in self.encoded:
            return self.encoded[name]
        return self._load_json(info, name, size)

    async def _load_json(self, info: Info[ArcosContext, None], name: str, size: int) -> Any:
        stored = await StoredJsonBySeq(info.context).load((name, self.seq))
        if stored is None or stored.text.isascii():
            return stored
        # Escaped like every other message (see arcos/evidence/events.py); a large text
        # in a JSON thread.
        text = await info.context.json_threads.run(ascii_text, stored.text, size=size)
        return PreEncodedJSON(text)

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> "list[EvidenceType | None]":
        ids = list(node_ids)
        uids = []
        for raw in ids:
            try:
                uids.append(uuid.UUID(raw))
            except ValueError:
                raise BadUserInput(f"'{raw:.80}' is not an evidence id") from None
        rows = {
            str(e.uid): e for e in await service.summaries(models.Evidence.filter(uid__in=uids))
        }
        return [cls.from_model(rows[i]) if i in rows else None for i in ids]

    @strawberry.field(
        description="This item's position in evidenceConnection: pass it as `after` to read "
        "what came later (e.g. to catch up after a subscription was interrupted)."
    )
    def cursor(self) -> str:
        return encode_cursor(EVIDENCE_CURSOR, self.seq)

    @strawberry.field(description="The project, when the evidence names one.",
                      graphql_type=ProjectType | None)
    def project(
        self, info: Info[ArcosContext, None]
    ) -> ProjectType | Awaitable[ProjectType | None] | None:
        if self.project_id is None:
            return None
        if self.known_project is not None:  # see `data`: answered without awaiting
            return ProjectType.from_model(self.known_project)
        return self._load_project(info, self.project_id)

    @staticmethod
    async def _load_project(info: Info[ArcosContext, None], project_id: int) -> ProjectType | None:
        project = await ProjectById(info.context).load(project_id)
        return ProjectType.from_model(project) if project else None

    @strawberry.field(
        description="Links from and to this evidence, oldest first.", permission_classes=READ
    )
    async def relations(self, info: Info[ArcosContext, None]) -> "list[EvidenceRelationType]":
        rows = await RelationsBySeq(info.context).load(self.seq)
        return [EvidenceRelationType.from_model(r) for r in rows]


@strawberry.type(name="EvidenceRelation", description="`from` relates to `to` as `relation`.")
class EvidenceRelationType:
    relation: RelationKind
    created_by: str
    created_at: datetime
    from_seq: strawberry.Private[int]
    to_seq: strawberry.Private[int]

    @classmethod
    def from_model(cls, relation: models.EvidenceRelation) -> "EvidenceRelationType":
        return cls(
            relation=relation.relation, created_by=relation.created_by,
            created_at=relation.created_at, from_seq=relation.from_evidence_id,
            to_seq=relation.to_evidence_id,
        )

    @strawberry.field(name="from", permission_classes=READ)
    async def from_(self, info: Info[ArcosContext, None]) -> EvidenceType:
        return await _load_evidence(info, self.from_seq)

    @strawberry.field(permission_classes=READ)
    async def to(self, info: Info[ArcosContext, None]) -> EvidenceType:
        return await _load_evidence(info, self.to_seq)


async def _load_evidence(info: Info[ArcosContext, None], seq: int) -> EvidenceType:
    row = await EvidenceBySeq(info.context).load(seq)
    if row is None:  # relations use ON DELETE RESTRICT, so this means a broken store
        raise RuntimeError(f"relation points at missing evidence seq={seq}")
    return EvidenceType.from_model(row)


@strawberry.input(description="Narrow an evidence listing; every field given must match.")
class EvidenceFilter:
    type: str | None = strawberry.field(default=None, metadata=TYPE_BOUND)
    source: str | None = strawberry.field(default=None, metadata=SOURCE_BOUND)
    project: str | None = strawberry.field(
        default=None, description="Project slug.", metadata=SLUG_BOUND
    )
    commit_sha: str | None = strawberry.field(default=None, metadata=COMMIT_SHA_BOUND)
    since: datetime | None = strawberry.field(default=None, description="Created at or after.")
    until: datetime | None = strawberry.field(default=None, description="Created before.")

    def to_query(self, project: str | None = None) -> service.EvidenceQuery:
        return service.EvidenceQuery(
            type=self.type, source=self.source, project=project or self.project,
            commit_sha=self.commit_sha, since=self.since, until=self.until,
        )


@strawberry.type(name="EvidenceEdge")
class EvidenceEdge:
    cursor: str
    node: EvidenceType


@strawberry.type(name="EvidenceConnection", description="One keyset page of evidence.")
class EvidenceConnection:
    edges: list[EvidenceEdge]
    page_info: relay.PageInfo
    query: strawberry.Private[service.EvidenceQuery]

    @strawberry.field(description="The nodes of `edges`, for clients that need no cursors.")
    def nodes(self) -> list[EvidenceType]:
        return [edge.node for edge in self.edges]

    @strawberry.field(description="Rows matching the filter across all pages (one COUNT).")
    async def total_count(self) -> int:
        return await service.count_evidence(self.query)

    @classmethod
    async def page(
        cls,
        info: Info[ArcosContext, None],
        query: service.EvidenceQuery,
        first: int,
        after: str | None,
        order: OrderDirection,
    ) -> "EvidenceConnection":
        check_page_size("first", first, info.context.settings.max_page_size)
        after_seq = decode_cursor(EVIDENCE_CURSOR, after)
        rows, has_next = await service.page_evidence(
            query, first, after_seq, newest_first=order is OrderDirection.DESC
        )
        edges = [
            EvidenceEdge(cursor=encode_cursor(EVIDENCE_CURSOR, row.seq),
                         node=EvidenceType.from_model(row))
            for row in rows
        ]
        return cls(
            edges=edges,
            page_info=page_info([edge.cursor for edge in edges], has_next, after),
            query=query,
        )


@strawberry.type(name="ProjectEdge")
class ProjectEdge:
    cursor: str
    node: ProjectType


@strawberry.type(name="ProjectConnection")
class ProjectConnection:
    edges: list[ProjectEdge]
    page_info: relay.PageInfo

    @strawberry.field
    def nodes(self) -> list[ProjectType]:
        return [edge.node for edge in self.edges]


@strawberry.type
class SubmitEvidencePayload:
    evidence: EvidenceType | None
    replayed: bool = strawberry.field(
        description="True when an earlier write with the same idempotencyKey was returned."
    )
    errors: list[UserError]


@strawberry.type
class SubmitEvidenceBatchPayload:
    evidence: list[EvidenceType] = strawberry.field(description="In input order; empty on errors.")
    errors: list[UserError]


@strawberry.type
class LinkEvidencePayload:
    relation: EvidenceRelationType | None
    errors: list[UserError]
