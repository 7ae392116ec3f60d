"""Artifact intake in GraphQL: one mutation per kind of CI/security report, findings and
metric queries, and live metric updates. Resolvers stay thin: check, call, shape."""

import base64
import binascii
import uuid
from collections.abc import AsyncGenerator, Iterator
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from arcos.auth.permissions import requires, requires_any
from arcos.broker import channel
from arcos.evidence.drafts import FIELD_CONSTRAINTS
from arcos.evidence.scopes import EVIDENCE_READ, EVIDENCE_WRITE
from arcos.evidence.types import METRIC_NAME_BOUND, SLUG_BOUND, EvidenceType
from arcos.graphql.context import ArcosContext
from arcos.graphql.errors import UserError, user_errors
from arcos.graphql.live_events import live_events
from arcos.graphql.metadata import COHORT, JSON_SCHEMA, LIST_ITEMS, SCOPES_ONLY, column_bound
from arcos.graphql.pagination import check_page_size, decode_cursor, encode_cursor, page_info
from arcos.intake import series, service
from arcos.intake.findings import FindingsSummary
from arcos.intake.metrics import METRICS_UPDATED
from arcos.intake.models import Finding
from arcos.intake.types import (
    FindingConnection,
    FindingEdge,
    FindingSeverity,
    FindingsSummaryType,
    FindingState,
    FindingType,
    IngestArtifactPayload,
    IngestionJobType,
    MetricSeriesType,
    QualityMetricType,
)
from arcos.problems import BadUserInput, Problem, ProblemCode, Refused
from arcos.web.spool import BodySpool

FINDING_CURSOR = "finding"
READ = [requires(EVIDENCE_READ)]
WRITE = [requires(EVIDENCE_WRITE)]


@strawberry.input(description="One artifact: its text in `content`, or its bytes (e.g. gzip) "
                  "base64-encoded in `contentBase64`; exactly one of the two.")
class ArtifactInput:
    content: str | None = strawberry.field(default=None, description="The report as text.")
    content_base64: str | None = strawberry.field(
        default=None, description="The report's bytes, base64; gzip is detected and inflated."
    )
    format: str | None = strawberry.field(
        default=None, description="Format name (junit, cobertura, sarif, cyclonedx, …) when "
        "sniffing the content is not enough."
    )
    content_type: str | None = strawberry.field(
        default=None, description="The artifact's media type (e.g. application/sarif+json, "
        "application/gzip); names the format when `format` is not given."
    )
    project: str | None = strawberry.field(
        default=None, description="Project slug; metrics are recorded only when given.",
        metadata={JSON_SCHEMA: FIELD_CONSTRAINTS["project"]},
    )
    commit_sha: str | None = strawberry.field(
        default=None, metadata={JSON_SCHEMA: FIELD_CONSTRAINTS["commit_sha"]}
    )
    ref: str | None = strawberry.field(
        default=None, metadata={JSON_SCHEMA: FIELD_CONSTRAINTS["ref"]}
    )
    pipeline_run: str | None = strawberry.field(
        default=None, description="The CI run that produced it (id or URL)."
    )
    file: Upload | None = strawberry.field(
        default=None,
        description="The report as a file in a GraphQL multipart request (the `operations` "
        "/ `map` form fields); the usual body-size limit applies.",
    )
    source_root: str | None = strawberry.field(
        default=None, description="SARIF only: the checkout directory paths are relative to."
    )

    def artifact_spool(self) -> tuple[BodySpool, str, bool]:
        """The artifact as a spool (a file on disk when large, which the parse worker reads
        by path instead of receiving a pickled copy), the input field it came from, and
        whether the spool is this call's to close (a REST body's belongs to its route);
        Refused unless exactly one of the fields was given."""
        sources = ("content", "content_base64", "file")
        given = [name for name in sources if getattr(self, name) is not None]
        if len(given) != 1:
            code = ProblemCode.INVALID if given else ProblemCode.REQUIRED
            raise Refused([Problem(
                field="content", code=code,
                message="give exactly one of content (text), contentBase64 (bytes) and file "
                "(a multipart upload)",
            )])
        if isinstance(self.file, BodySpool):  # a REST raw body: its `content`
            return self.file, "content", False
        if self.file is not None:
            return BodySpool.of_chunks(_upload_chunks(self.file)), "file", True
        if self.content is not None:
            return BodySpool.of_chunks(_encoded_chunks(self.content)), "content", True
        try:
            spool = BodySpool.of_chunks(_decoded_chunks(self.content_base64 or ""))
        except (binascii.Error, ValueError):
            raise Refused([Problem(
                field="contentBase64", code=ProblemCode.INVALID,
                message="contentBase64 is not valid base64 (RFC 4648, no line breaks)",
            )]) from None
        return spool, "contentBase64", True

    def provenance(self) -> service.Provenance:
        return service.Provenance(
            project=self.project, commit_sha=self.commit_sha, ref=self.ref,
            pipeline_run=self.pipeline_run,
        )


def _refused(errors: list[UserError], job_id: str | None = None) -> IngestArtifactPayload:
    return IngestArtifactPayload(
        job_id=strawberry.ID(job_id) if job_id else None, evidence=None, metrics=[],
        findings=FindingsSummaryType.from_summary(FindingsSummary()), warnings=[], errors=errors,
    )


def _renamed(refused: Refused, field: str) -> list[UserError]:
    """Parser errors name `content`; say `contentBase64` when that is what was sent."""
    return [
        UserError(field=field if e.field == "content" else e.field, message=e.message,
                  code=e.code)
        for e in user_errors(refused)
    ]


#: Characters of text (or base64, a multiple of 4) encoded per chunk while spooling.
SPOOL_CHUNK = 1 << 20


def _encoded_chunks(text: str) -> Iterator[bytes]:
    for start in range(0, len(text), SPOOL_CHUNK):
        yield text[start:start + SPOOL_CHUNK].encode("utf-8", errors="surrogatepass")


def _decoded_chunks(text: str) -> Iterator[bytes]:
    # Checked whole, as one decode would: chunks could each pass with padding inside.
    if len(text) % 4 or "=" in text[:-2]:
        raise binascii.Error("base64 length must be a multiple of 4, padded only at the end")
    for start in range(0, len(text), SPOOL_CHUNK):
        yield base64.b64decode(text[start:start + SPOOL_CHUNK], validate=True)


def _upload_chunks(upload: Upload) -> Iterator[bytes]:
    """A multipart file's bytes in chunks: starlette has spooled it already (to disk when
    large), so it is copied, never read whole."""
    handle = upload.file
    handle.seek(0)
    while chunk := handle.read(SPOOL_CHUNK):
        yield chunk


async def _ingest(
    info: Info[ArcosContext, None], input: ArtifactInput, kind: service.IntakeKind
) -> IngestArtifactPayload:
    context = info.context
    try:
        spool, field, owned = input.artifact_spool()
    except Refused as refused:
        return _refused(user_errors(refused))
    try:
        intake = await service.ingest_artifact(
            kind, spool.source(), provenance=input.provenance(), write=context.write_context(),
            format=input.format, content_type=input.content_type,
            source_root=input.source_root, pool=context.parse_pool,
        )
    except service.IntakeRefused as refused:
        job_id = str(refused.job.job_id) if refused.job else None
        return _refused(_renamed(refused, field), job_id)
    finally:
        if owned:
            spool.close()
    return IngestArtifactPayload(
        job_id=strawberry.ID(str(intake.job.job_id)),
        evidence=EvidenceType.from_model(intake.evidence, intake.canonical, intake.project),
        metrics=[QualityMetricType.from_model(row) for row in intake.metrics],
        findings=FindingsSummaryType.from_summary(intake.findings),
        warnings=intake.warnings, errors=[],
    )


@strawberry.type
class IntakeMutations:
    @strawberry.mutation(description="Store a JUnit XML test report.", permission_classes=WRITE)
    async def submit_test_report(
        self, info: Info[ArcosContext, None], input: ArtifactInput
    ) -> IngestArtifactPayload:
        return await _ingest(info, input, "test_report")

    @strawberry.mutation(description="Store a Cobertura, coverage.py JSON or LCOV report.",
                         permission_classes=WRITE)
    async def submit_coverage_report(
        self, info: Info[ArcosContext, None], input: ArtifactInput
    ) -> IngestArtifactPayload:
        return await _ingest(info, input, "coverage_report")

    @strawberry.mutation(description="Store a SARIF static-analysis log; tracks its findings.",
                         permission_classes=WRITE)
    async def submit_security_scan(
        self, info: Info[ArcosContext, None], input: ArtifactInput
    ) -> IngestArtifactPayload:
        return await _ingest(info, input, "sast_report")

    @strawberry.mutation(
        description="Store a dependency audit (CycloneDX VEX, OSV, pip-audit, npm audit); "
        "tracks its findings.", permission_classes=WRITE,
    )
    async def submit_vulnerability_report(
        self, info: Info[ArcosContext, None], input: ArtifactInput
    ) -> IngestArtifactPayload:
        return await _ingest(info, input, "vulnerability_report")

    @strawberry.mutation(description="Store a CycloneDX or SPDX SBOM.", permission_classes=WRITE)
    async def submit_sbom(
        self, info: Info[ArcosContext, None], input: ArtifactInput
    ) -> IngestArtifactPayload:
        return await _ingest(info, input, "sbom")

    @strawberry.mutation(description="Record a CI build (ARCOS build JSON).",
                         permission_classes=WRITE)
    async def record_build(
        self, info: Info[ArcosContext, None], input: ArtifactInput
    ) -> IngestArtifactPayload:
        return await _ingest(info, input, "build")

    @strawberry.mutation(description="Record a deployment (ARCOS build JSON with environment).",
                         permission_classes=WRITE)
    async def record_deployment(
        self, info: Info[ArcosContext, None], input: ArtifactInput
    ) -> IngestArtifactPayload:
        return await _ingest(info, input, "deployment")


@strawberry.type
class IntakeQueries:
    @strawberry.field(description="A project's findings in the order they were first seen.",
                      permission_classes=READ)
    async def findings(
        self,
        info: Info[ArcosContext, None],
        project: Annotated[str, strawberry.argument(metadata=SLUG_BOUND)],
        severity: FindingSeverity | None = None,
        tool: Annotated[
            str | None, strawberry.argument(metadata=column_bound(Finding, "tool"))
        ] = None,
        state: FindingState | None = None,  # type: ignore[valid-type]
        first: int = 50,
        after: str | None = None,
    ) -> FindingConnection:
        check_page_size("first", first, info.context.settings.max_page_size)
        after_id = decode_cursor(FINDING_CURSOR, after)
        query = service.FindingQuery(
            project=project, severity=severity.value if severity else None, tool=tool,
            state=state,
        )
        rows, has_next = await service.page_findings(query, first, after_id)
        edges = [FindingEdge(cursor=encode_cursor(FINDING_CURSOR, row.id),
                             node=FindingType.from_model(row)) for row in rows]
        return FindingConnection(
            edges=edges,
            page_info=page_info([edge.cursor for edge in edges], has_next, after),
        )

    @strawberry.field(
        description="A project's metric values in time order: the latest `limit` of them.",
        permission_classes=READ,
    )
    async def quality_metrics(
        self,
        info: Info[ArcosContext, None],
        project: Annotated[str, strawberry.argument(metadata=SLUG_BOUND)],
        names: Annotated[list[str] | None, strawberry.argument(metadata=METRIC_NAME_BOUND)] = None,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
        limit: int = 100,
    ) -> list[QualityMetricType]:
        check_page_size("limit", limit, info.context.settings.max_page_size)
        rows = await service.metric_series(project, names, from_, to, limit)
        return [QualityMetricType.from_model(row) for row in rows]

    @strawberry.field(
        description="A project's metrics over [from, to) for plotting: each cut into at most "
        f"`points` ({series.MIN_POINTS}..{series.MAX_POINTS}) equal time buckets summarised "
        "by the store (min, max, mean, last, count). `from` defaults to the first value, "
        "`to` to just after the last; `names` (at most "
        f"{series.MAX_NAMES}) gives one series per name in its order, else every metric "
        "with values in the range.",
        permission_classes=READ,
        metadata={LIST_ITEMS: {"names": series.MAX_NAMES, "points": series.MAX_POINTS}},
    )
    async def quality_metric_series(
        self,
        project: Annotated[str, strawberry.argument(metadata=SLUG_BOUND)],
        names: Annotated[list[str] | None, strawberry.argument(metadata=METRIC_NAME_BOUND)] = None,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
        points: int = series.DEFAULT_POINTS,
    ) -> list[MetricSeriesType]:
        found = await series.series_in_range(project, names, from_, to, points)
        return [MetricSeriesType.from_series(one) for one in found.series]

    @strawberry.field(
        description="One upload's job; null when there is none. evidence:read sees every "
        "job; evidence:write alone sees only its own principal's jobs (others are null).",
        permission_classes=[requires_any(EVIDENCE_READ, EVIDENCE_WRITE)],
    )
    async def ingestion_job(
        self, info: Info[ArcosContext, None], job_id: strawberry.ID
    ) -> IngestionJobType | None:
        try:
            parsed = uuid.UUID(str(job_id))
        except ValueError:
            raise BadUserInput(f"'{job_id:.40}' is not a job id: pass a payload's jobId") from None
        caller = info.context.caller
        submitter = None if caller.may(EVIDENCE_READ) else caller.name
        row = await service.find_job(parsed, submitter)
        return IngestionJobType.from_model(row) if row else None


@strawberry.type
class IntakeSubscriptions:
    @strawberry.subscription(description="Each metric value of a project as it is committed.",
                             permission_classes=READ,
                             # A metric shows the same to every caller with the same scopes.
                             metadata={COHORT: SCOPES_ONLY})
    async def quality_metric_updated(
        self, info: Info[ArcosContext, None],
        project: Annotated[str, strawberry.argument(metadata=SLUG_BOUND)],
    ) -> AsyncGenerator[QualityMetricType, None]:
        context = info.context
        topic = channel(METRICS_UPDATED, project=project.strip().lower())
        async with live_events(context, topic) as events:
            async for event in events:
                context.next_event()
                yield QualityMetricType.from_event(event)
