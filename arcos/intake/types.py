"""GraphQL types of artifact intake, built from models or (metrics) from broker events."""

from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from arcos.auth.permissions import requires
from arcos.database_id import is_database_id
from arcos.evidence.loaders import EvidenceByUid
from arcos.evidence.scopes import EVIDENCE_READ
from arcos.evidence.types import EvidenceType
from arcos.graphql.errors import UserError
from arcos.graphql.metadata import LIST_ITEMS
from arcos.intake import models, series
from arcos.intake.findings import FindingsSummary
from arcos.intake.metrics import StoredMetric
from arcos.problems import BadUserInput

#: Fields that reach evidence need `evidence:read` even on a payload a write-only token gets.
READ = [requires(EVIDENCE_READ)]

FindingState = strawberry.enum(models.FindingState, name="FindingState",
                               description="Whether the latest scan still reports a finding.")
IngestionJobStatus = strawberry.enum(models.JobStatus, name="IngestionJobStatus")


@strawberry.enum(description="Severity on GitHub code scanning's scale.")
class FindingSeverity(Enum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"
    UNKNOWN = "unknown"


async def _evidence_by_uid(info: Info, uid: str | None) -> EvidenceType | None:
    """The evidence a row came from, batched across the rows of one response."""
    if uid is None:
        return None
    row = await EvidenceByUid(info.context).load(uid)
    return EvidenceType.from_model(row) if row else None


@strawberry.type(name="QualityMetric", description="One value of a project's quality metric.")
class QualityMetricType:
    name: str = strawberry.field(description="Such as tests.pass_rate or coverage.line_rate.")
    value: float
    timestamp: datetime
    metadata: JSON = strawberry.field(description="Provenance: type, source, commit, ref, run.")
    evidence_uid: strawberry.Private[str]

    @classmethod
    def from_model(cls, row: models.QualityMetric | StoredMetric) -> "QualityMetricType":
        return cls(name=row.name, value=row.value, timestamp=row.timestamp,
                   metadata=row.metadata, evidence_uid=str(row.evidence_uid))

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> "QualityMetricType":
        return cls(name=event["name"], value=event["value"],
                   timestamp=datetime.fromisoformat(event["timestamp"]),
                   metadata=event["metadata"], evidence_uid=event["evidence_uid"])

    @strawberry.field(description="The evidence this value was derived from.",
                      permission_classes=READ)
    async def evidence(self, info: Info) -> EvidenceType | None:
        return await _evidence_by_uid(info, self.evidence_uid)


@strawberry.type(name="MetricBucket", description="The values of one metric in one time "
                 "bucket [start, end) of a qualityMetricSeries.")
class MetricBucketType:
    start: datetime
    end: datetime
    timestamp: datetime = strawberry.field(
        description="The mean time of the bucket's values: where a plot puts its point (a "
        "bucket of one value sits exactly at that value's time)."
    )
    min: float
    max: float
    mean: float
    last: float = strawberry.field(description="The bucket's latest value.")
    count: int = strawberry.field(description="How many values the bucket summarises.")

    @classmethod
    def from_bucket(cls, bucket: series.Bucket) -> "MetricBucketType":
        return cls(start=bucket.start, end=bucket.end, timestamp=bucket.timestamp,
                   min=bucket.low, max=bucket.high, mean=bucket.mean, last=bucket.last,
                   count=bucket.count)


@strawberry.type(name="MetricSeries", description="One metric over a range, downsampled.")
class MetricSeriesType:
    name: str
    buckets: list[MetricBucketType] = strawberry.field(
        description="Buckets holding values, oldest first (empty buckets are left out).",
        # Counted by qualityMetricSeries' `points` already (arcos/graphql/shape.py).
        metadata={LIST_ITEMS: {}},
    )

    @classmethod
    def from_series(cls, found: series.Series) -> "MetricSeriesType":
        return cls(name=found.name,
                   buckets=[MetricBucketType.from_bucket(b) for b in found.buckets])


@strawberry.type(name="Finding", description="A static-analysis or dependency finding, "
                 "tracked across scans of one project by its fingerprint.")
class FindingType(relay.Node):
    key: relay.NodeID[str]
    tool: str
    category: str
    kind: str = strawberry.field(description="sast or sca.")
    fingerprint: str
    rule_id: str | None
    vulnerability_id: str | None
    severity: FindingSeverity
    message: str
    path: str | None
    line: int | None
    component: str | None
    version: str | None
    purl: str | None
    state: FindingState  # type: ignore[valid-type]
    first_seen: datetime
    last_seen: datetime
    first_evidence_uid: strawberry.Private[str]
    last_evidence_uid: strawberry.Private[str]

    @classmethod
    def from_model(cls, row: models.Finding) -> "FindingType":
        return cls(
            key=str(row.id), tool=row.tool, category=row.category, kind=row.kind,
            fingerprint=row.fingerprint, rule_id=row.rule_id,
            vulnerability_id=row.vulnerability_id, severity=FindingSeverity(row.severity),
            message=row.message, path=row.path, line=row.line, component=row.component,
            version=row.version, purl=row.purl, state=row.state,
            first_seen=row.first_seen, last_seen=row.last_seen,
            first_evidence_uid=str(row.first_evidence_uid),
            last_evidence_uid=str(row.last_evidence_uid),
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> "list[FindingType | None]":
        ids = list(node_ids)
        if not all(is_database_id(raw) for raw in ids):
            raise BadUserInput("a Finding id must come from a Finding's `id` field")
        rows = {str(r.id): r for r in await models.Finding.filter(id__in=[int(i) for i in ids])}
        return [cls.from_model(rows[i]) if i in rows else None for i in ids]

    @strawberry.field(description="The scan that first reported it.", permission_classes=READ)
    async def first_evidence(self, info: Info) -> EvidenceType | None:
        return await _evidence_by_uid(info, self.first_evidence_uid)

    @strawberry.field(description="The latest scan that reported it.", permission_classes=READ)
    async def last_evidence(self, info: Info) -> EvidenceType | None:
        return await _evidence_by_uid(info, self.last_evidence_uid)


@strawberry.type(name="FindingEdge")
class FindingEdge:
    cursor: str
    node: FindingType


@strawberry.type(name="FindingConnection", description="One keyset page of findings.")
class FindingConnection:
    edges: list[FindingEdge]
    page_info: relay.PageInfo

    @strawberry.field(description="The nodes of `edges`, for clients that need no cursors.")
    def nodes(self) -> list[FindingType]:
        return [edge.node for edge in self.edges]


@strawberry.type(name="IngestionJob", description="One artifact upload and how it ended.")
class IngestionJobType:
    job_id: strawberry.ID
    kind: str
    format: str | None
    status: IngestionJobStatus  # type: ignore[valid-type]
    error: str | None = strawberry.field(description="Why it failed.")
    project: str | None = strawberry.field(description="The project slug it named.")
    created_at: datetime
    finished_at: datetime | None
    evidence_uid: strawberry.Private[str | None]

    @classmethod
    def from_model(cls, row: models.IngestionJob) -> "IngestionJobType":
        return cls(
            job_id=strawberry.ID(str(row.job_id)), kind=row.kind, format=row.format,
            status=row.status, error=row.error, project=row.project_slug,
            created_at=row.created_at, finished_at=row.finished_at,
            evidence_uid=str(row.evidence_uid) if row.evidence_uid else None,
        )

    @strawberry.field(description="The evidence it produced.", permission_classes=READ)
    async def evidence(self, info: Info) -> EvidenceType | None:
        return await _evidence_by_uid(info, self.evidence_uid)


@strawberry.type(name="FindingsSummary", description="How one scan changed the findings.")
class FindingsSummaryType:
    total: int = strawberry.field(description="Active (unsuppressed) findings in the scan.")
    new: int = strawberry.field(description="Findings opened or re-opened by this scan.")
    fixed: int = strawberry.field(description="Open findings this scan no longer reports.")
    untracked: int = strawberry.field(
        description="Findings in `total` beyond ARCOS_MAX_FINDINGS_PER_SCAN (the least "
        "severe): counted, not tracked; an open one stays open."
    )

    @classmethod
    def from_summary(cls, summary: FindingsSummary) -> "FindingsSummaryType":
        return cls(total=summary.total, new=summary.new, fixed=summary.fixed,
                   untracked=summary.untracked)


@strawberry.type(description="The result of one artifact upload.")
class IngestArtifactPayload:
    job_id: strawberry.ID | None = strawberry.field(
        description="The upload's job; set on refusals too when a failed job was recorded."
    )
    evidence: EvidenceType | None
    metrics: list[QualityMetricType] = strawberry.field(
        description="Metric values recorded (only when the upload names a project)."
    )
    findings: FindingsSummaryType
    warnings: list[str] = strawberry.field(description="What the parser tolerated.")
    errors: list[UserError]
