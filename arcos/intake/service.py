"""The rules of artifact intake: parse an upload, then store its evidence, findings, metrics
and job record in one unit of work, whose events subscribers hear only after the commit."""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, NoReturn, TypeAlias

from tortoise.queryset import QuerySet

from arcos.evidence.drafts import (
    CONTROL_CHARS,
    MAX_SLUG_LENGTH,
    SLUG,
    EvidenceDraft,
    check_draft,
)
from arcos.evidence.models import Evidence, Project
from arcos.evidence.service import draft_limits, insert_drafts
from arcos.formats.collector import collector_paused
from arcos.formats.errors import PAYLOAD_TOO_LARGE, ArtifactRefused
from arcos.formats.limits import Limits
from arcos.formats.results import (
    BuildRecord,
    CoverageReport,
    Kind,
    MetricValue,
    Result,
    Sbom,
    StaticAnalysisReport,
    TestReport,
    VulnerabilityReport,
)
from arcos.intake import metrics as quality
from arcos.intake.components import kept_components, record_components
from arcos.intake.findings import FindingsSummary, Tracking, record_scan, track
from arcos.intake.models import Finding, FindingState, IngestionJob, JobStatus, QualityMetric
from arcos.intake.summary import source_of, summarize
from arcos.metrics import INGEST_JOBS
from arcos.problems import Problem, ProblemCode, Refused
from arcos.settings import Settings
from arcos.storable import storable, unstorable
from arcos.store.bulk import insert_all
from arcos.store.unit_of_work import UnitOfWork
from arcos.store.write_context import WriteContext
from arcos.web.parse_pool import ParsePool

IntakeKind: TypeAlias = Literal[
    "test_report", "coverage_report", "sast_report", "vulnerability_report", "sbom", "build",
    "deployment",
]
#: The evidence `type` each kind of upload becomes.
EVIDENCE_TYPES: dict[IntakeKind, str] = {
    "test_report": "test_results",
    "coverage_report": "test_coverage",
    "sast_report": "security_scan",
    "vulnerability_report": "vulnerability_report",
    "sbom": "sbom",
    "build": "build",
    "deployment": "deployment",
}
MAX_PIPELINE_RUN_LENGTH = 255
_FORMAT_NAME = re.compile(r"^[a-z0-9][a-z0-9._+\-]{0,31}$")


@dataclass(frozen=True)
class Provenance:
    """Where an artifact came from, as the uploader states it."""

    project: str | None = None
    commit_sha: str | None = None
    ref: str | None = None
    pipeline_run: str | None = None


@dataclass
class Intake:
    """What one accepted upload stored."""

    job: IngestionJob
    evidence: Evidence
    metrics: list[quality.StoredMetric]
    findings: FindingsSummary
    warnings: list[str]
    project_slug: str | None = None
    #: The evidence's `data` and `metadata` as stored (canonical JSON) and its project row:
    #: what the write has in hand, so the answer reads neither back.
    canonical: dict[str, bytes] | None = None
    project: Project | None = None


class IntakeRefused(Refused):
    """Nothing but a failed job record was stored; `job` is that record when there is one."""

    def __init__(self, errors: list[Problem], job: IngestionJob | None = None) -> None:
        super().__init__(errors)
        self.job = job


@dataclass
class _Parsed:
    kind: IntakeKind
    result: Result
    draft: EvidenceDraft
    job_id: uuid.UUID
    started_at: datetime
    metrics: dict[str, MetricValue]
    metric_metadata: dict[str, Any] = field(default_factory=dict)
    tracking: Tracking | None = None


async def ingest_artifact(
    kind: IntakeKind,
    content: bytes | Path,
    *,
    provenance: Provenance,
    write: WriteContext,
    format: str | None = None,
    content_type: str | None = None,
    source_root: str | None = None,
    pool: ParsePool | None = None,
) -> Intake:
    """Parse and store one artifact. Raises IntakeRefused (after recording a failed job)
    when the artifact or the provenance cannot be accepted; nothing else is written then.

    With a `pool`, the parse runs in one of its worker processes (the server always passes
    one), or for a small plain upload in a thread under the pool's admission; without a
    pool, in this thread (scripts and unit tests)."""
    job_id, started_at = uuid.uuid4(), write.writer.clock()
    limits = parse_limits(write.settings)
    try:
        arguments = (kind, content, format, content_type, limits, source_root)
        prepared = await (
            pool.run(parse_artifact, *arguments, in_thread=parsed_in_thread(content))
            if pool else _inline(*arguments)
        )
    except ArtifactRefused as refused:
        code = ProblemCode.TOO_LARGE if refused.status == PAYLOAD_TOO_LARGE else (
            ProblemCode.INVALID
        )
        error = Problem(field="content", message=refused.message, code=code)
        await _refuse(job_id, kind, format, provenance, write, started_at, [error])
    result = prepared.result
    draft = _draft(kind, result, prepared.summary, provenance, job_id)
    problems = check_draft(draft, draft_limits(write.settings)) + _pipeline_run_problems(
        provenance.pipeline_run
    )
    if problems:
        await _refuse(job_id, kind, result.format, provenance, write, started_at, problems)
    parsed = _Parsed(kind, result, draft, job_id, started_at, prepared.metrics,
                     _metric_metadata(draft, provenance), prepared.tracking)

    async def work(unit: UnitOfWork) -> Intake:
        return await _store(unit, parsed, write.principal)

    # A concurrent scan of the same project and tool may insert one of our new findings
    # first and roll our unit back: it runs again, on top of theirs.
    intake = await write.writer.run(work)
    INGEST_JOBS.labels(kind, JobStatus.SUCCEEDED.value).inc()
    return intake


def parse_limits(settings: Settings) -> Limits:
    """The parser's limits from the settings."""
    return Limits(
        max_decompressed_bytes=settings.max_artifact_bytes,
        max_gzip_members=settings.max_gzip_members,
        max_findings_per_scan=settings.max_findings_per_scan,
    )


@dataclass(frozen=True)
class Prepared:
    """What a parse worker hands back: compact, so crossing back to the server is cheap."""

    result: Result  # without per-item tuples; scans keep only the findings to store
    summary: dict[str, Any]  # the evidence `data`
    metrics: dict[str, MetricValue]  # the report's own metrics, over all its findings
    tracking: Tracking | None = None  # scans: which findings are beyond the limit


def parse_artifact(
    kind: IntakeKind,
    content: bytes | Path,
    format: str | None,
    content_type: str | None,
    limits: Limits,
    source_root: str | None,
) -> Prepared:
    """Everything CPU-heavy about an upload, in one picklable call a worker process runs:
    decode, parse, check, summarise and measure; `content` may be a file the worker reads
    itself."""
    with collector_paused():
        return _prepare(kind, content, format, content_type, limits, source_root)


def _prepare(
    kind: IntakeKind,
    content: bytes | Path,
    format: str | None,
    content_type: str | None,
    limits: Limits,
    source_root: str | None,
) -> Prepared:
    # Imported on first use: the parsers are needed by no start-up step (Domain.deferred_imports).
    from arcos.formats.parse import parse

    if isinstance(content, Path):
        content = content.read_bytes()
    result = parse(content, format=format, content_type=content_type,
                   kind=_parse_kind(kind), limits=limits, source_root=source_root)
    _check_deployment(kind, result)
    metrics = result.metrics()
    if isinstance(result, Sbom):
        return _prepare_sbom(result, metrics, limits.max_findings_per_scan)
    if not isinstance(result, StaticAnalysisReport | VulnerabilityReport):
        return Prepared(_without_items(result), summarize(result), metrics)
    tracked, tracking = track(result, limits.max_findings_per_scan)
    # totals over every finding; warnings with the one saying what was not tracked
    summary = summarize(dataclasses.replace(result, warnings=tracked.warnings), tracking)
    return Prepared(tracked, summary, metrics, tracking)


def _prepare_sbom(sbom: Sbom, metrics: dict[str, MetricValue], limit: int) -> Prepared:
    """An SBOM is summarised whole and keeps its distinct components; the vulnerability scan
    it may embed is tracked like a vulnerability report's (at most `limit` findings cross
    back), and its warnings join the SBOM's."""
    kept = kept_components(sbom)
    scan, tracking = (None, None) if sbom.vulnerabilities is None else track(
        sbom.vulnerabilities, limit
    )
    # each list is capped already; deduplicated only, so no limit warning is cut off
    warnings = tuple(dict.fromkeys((*kept.warnings, *(scan.warnings if scan else ()))))
    summary = summarize(dataclasses.replace(sbom, warnings=warnings), tracking)
    return Prepared(dataclasses.replace(kept, warnings=warnings, vulnerabilities=scan), summary,
                    metrics, tracking)


#: The per-item tuples of reports whose items are summarised and measured, never stored.
_ITEMS: dict[type, str] = {TestReport: "cases", CoverageReport: "files"}


def _without_items(result: Result) -> Result:
    """The result without its per-item tuple once the summary and the metrics are taken: a
    50 MB JUnit report holds a million test cases, which the server process would otherwise
    unpickle (seconds of CPU, hundreds of MB) only to throw away."""
    items = _ITEMS.get(type(result))
    return dataclasses.replace(result, **{items: ()}) if items else result


#: Uploads up to this size (not gzip) are parsed in a thread instead of a worker process.
#: The largest single C call such a parse makes, `json.loads` of the whole body, holds the
#: GIL about 1 ms at this size; the XML parsers call back into Python every element, where
#: the loop's thread gets its turn within the switch interval.
THREAD_PARSE_BYTES = 128 * 1024
_GZIP_MAGIC = b"\x1f\x8b"


def parsed_in_thread(content: bytes | Path) -> bool:
    """Whether `content` is parsed in a thread: small and not gzip (whose inflated size the
    bytes do not tell)."""
    if isinstance(content, Path):
        try:
            if content.stat().st_size > THREAD_PARSE_BYTES:
                return False
            with content.open("rb") as file:
                head = file.read(2)
        except OSError:
            return False  # the worker reports it
    else:
        if len(content) > THREAD_PARSE_BYTES:
            return False
        head = content[:2]
    return head != _GZIP_MAGIC


async def _inline(*arguments: Any) -> Prepared:
    return parse_artifact(*arguments)


def _parse_kind(kind: IntakeKind) -> Kind:
    return "build" if kind == "deployment" else kind


def _check_deployment(kind: IntakeKind, result: Result) -> None:
    if kind == "deployment" and isinstance(result, BuildRecord) and not result.is_deployment:
        raise ArtifactRefused(422, "a deployment record needs an `environment`, e.g. production")


def _draft(
    kind: IntakeKind, result: Result, summary: dict[str, Any], provenance: Provenance,
    job_id: uuid.UUID,
) -> EvidenceDraft:
    commit_sha, ref = provenance.commit_sha, provenance.ref
    if isinstance(result, BuildRecord):
        # The record fills only what the caller left out; an empty value given is kept
        # so that the draft check refuses it.
        commit_sha = result.commit if commit_sha is None else commit_sha
        ref = result.ref if ref is None else ref
    metadata = {"job_id": str(job_id), "kind": kind, "format": result.format}
    if provenance.pipeline_run is not None:
        metadata["pipeline_run"] = provenance.pipeline_run
    return EvidenceDraft(
        type=EVIDENCE_TYPES[kind], source=source_of(result), data=summary,
        project=provenance.project,  # checked as given: an empty slug is refused, not dropped
        commit_sha=commit_sha, ref=ref, metadata=metadata,
    )


def _pipeline_run_problems(pipeline_run: str | None) -> list[Problem]:
    if pipeline_run is None or (
        0 < len(pipeline_run) <= MAX_PIPELINE_RUN_LENGTH and not CONTROL_CHARS.search(pipeline_run)
        and not unstorable(pipeline_run)
    ):
        return []
    return [Problem(
        field="pipelineRun", code=ProblemCode.INVALID,
        message=f"pipelineRun must be 1-{MAX_PIPELINE_RUN_LENGTH} characters without control "
        "characters",
    )]


def _metric_metadata(draft: EvidenceDraft, provenance: Provenance) -> dict[str, Any]:
    values = {
        "type": draft.type, "source": draft.source, "commit_sha": draft.commit_sha,
        "ref": draft.ref, "pipeline_run": provenance.pipeline_run,
    }
    return {key: value for key, value in values.items() if value is not None}


async def _refuse(
    job_id: uuid.UUID,
    kind: IntakeKind,
    format: str | None,
    provenance: Provenance,
    write: WriteContext,
    started_at: datetime,
    errors: list[Problem],
) -> NoReturn:
    """Record the failed job in its own small unit of work, then raise IntakeRefused."""
    slug = (provenance.project or "").strip().lower()

    async def work(unit: UnitOfWork) -> IngestionJob:
        return await IngestionJob.create(
            job_id=job_id, kind=kind, status=JobStatus.FAILED,
            format=format.lower() if format and _FORMAT_NAME.match(format.lower()) else None,
            error=storable("; ".join(e.message for e in errors)),
            project_slug=slug if len(slug) <= MAX_SLUG_LENGTH and SLUG.match(slug) else None,
            submitted_by=write.principal, created_at=started_at, finished_at=unit.now,
            using_db=unit.connection,
        )

    job = await write.writer.run(work)
    INGEST_JOBS.labels(kind, JobStatus.FAILED.value).inc()
    raise IntakeRefused(errors, job)


async def _store(unit: UnitOfWork, parsed: _Parsed, submitter: str) -> Intake:
    """The evidence, findings, metrics and job record of one upload, in `unit`; the
    evidence and each metric are published (on their project's topic) when it commits."""
    result = parsed.result
    connection = unit.connection
    [submission] = await insert_drafts(unit, [parsed.draft], submitter)
    evidence = submission.evidence
    findings = None
    if (scan := _scan_of(result)) is not None:
        findings = await record_scan(
            scan, evidence.project_id, evidence.uid, evidence.created_at, connection,
            parsed.tracking,
        )
    rows = await _record_metrics(parsed, evidence, findings, connection)
    if isinstance(result, Sbom) and evidence.project_id is not None:
        await record_components(result, evidence.project_id, evidence.uid, connection)
    if submission.project_slug is not None:
        for row in rows:
            unit.publish(quality.metric_message(row, submission.project_slug))
    job = IngestionJob(
        job_id=parsed.job_id, kind=parsed.kind, format=result.format,
        status=JobStatus.SUCCEEDED, evidence_uid=evidence.uid,
        project_slug=submission.project_slug, submitted_by=submitter,
        created_at=parsed.started_at, finished_at=unit.now,
    )
    await insert_all(connection, [job])  # no SQL built through pypika per upload, as `create` does
    return Intake(
        job=job, evidence=evidence, metrics=rows, findings=findings or FindingsSummary(),
        warnings=list(result.warnings), project_slug=submission.project_slug,
        canonical=submission.canonical, project=evidence.project,
    )


def _scan_of(result: Result) -> StaticAnalysisReport | VulnerabilityReport | None:
    """The findings an upload applies to the stored ones: a scan's own, or the
    vulnerabilities an SBOM embeds. An SBOM without a `vulnerabilities` array is no scan
    and leaves every finding as it was.

    An embedded scan is filed like the same BOM sent to submitVulnerabilityReport: under
    the tool the BOM names, else "cyclonedx" (pip-audit's CycloneDX names none). So it
    closes only what earlier scans of that tool reported for the project, and a pip-audit
    JSON report of the same project (filed under "pip-audit") neither closes nor is closed
    by it: each scan speaks only for what it scanned, as two scanners would. Their
    fingerprints differ too when the BOM lists no aliases (PYSEC-… rather than the CVE),
    so one vulnerability may be open once per tool until each tool stops reporting it."""
    if isinstance(result, StaticAnalysisReport | VulnerabilityReport):
        return result
    return result.vulnerabilities if isinstance(result, Sbom) else None


async def _record_metrics(
    parsed: _Parsed, evidence: Evidence, findings: FindingsSummary | None, connection: Any
) -> list[quality.StoredMetric]:
    if evidence.project_id is None:
        return []  # a time series belongs to a project
    record = quality.record_metrics
    arguments = (evidence.project_id, evidence.uid, evidence.created_at,
                 parsed.metric_metadata, connection)
    rows = await record(quality.report_values(parsed.result, findings, parsed.metrics), *arguments)
    if isinstance(parsed.result, BuildRecord):
        rolling = await quality.rolling_build_values(
            parsed.result, evidence.project_id, connection
        )
        rows += await record(rolling, *arguments)
    return rows


@dataclass(frozen=True)
class FindingQuery:
    """Filters of the findings listing; `project` is a slug."""

    project: str
    severity: str | None = None
    tool: str | None = None
    state: FindingState | None = None

    def apply(self, queryset: QuerySet[Finding]) -> QuerySet[Finding]:
        queryset = queryset.filter(project__slug=self.project.strip().lower())
        if self.severity is not None:
            queryset = queryset.filter(severity=self.severity)
        if self.tool is not None:
            queryset = queryset.filter(tool=self.tool)
        if self.state is not None:
            queryset = queryset.filter(state=self.state)
        return queryset


async def page_findings(
    query: FindingQuery, first: int, after_id: int | None
) -> tuple[list[Finding], bool]:
    """One keyset page of findings in id order, and whether more follow."""
    if unstorable(query.project) or (
        query.tool is not None and unstorable(query.tool)
    ):
        return [], False  # no stored value can contain NUL or a lone surrogate
    queryset = query.apply(Finding.all())
    if after_id is not None:
        queryset = queryset.filter(id__gt=after_id)
    rows = await queryset.order_by("id").limit(first + 1)
    return rows[:first], len(rows) > first


async def count_findings(query: FindingQuery) -> int:
    if unstorable(query.project):
        return 0
    return await query.apply(Finding.all()).count()


async def metric_series(
    project: str,
    names: Sequence[str] | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> list[QualityMetric]:
    """The latest `limit` values of a project's metrics, in time order (oldest first)."""
    found = await Project.get_or_none(slug=project.strip().lower()) if (
        not unstorable(project)
    ) else None
    if found is None:
        return []
    queryset = QualityMetric.filter(project_id=found.id)
    if names is not None:
        queryset = queryset.filter(name__in=[name for name in names if not unstorable(name)])
    if since is not None:
        queryset = queryset.filter(timestamp__gte=since)
    if until is not None:
        queryset = queryset.filter(timestamp__lt=until)
    latest = await queryset.order_by("-timestamp", "-id").limit(limit)
    return latest[::-1]


async def find_job(job_id: uuid.UUID, submitter: str | None = None) -> IngestionJob | None:
    """A job by id; with `submitter`, only if that principal submitted it (a job of someone
    else is as absent as an unknown one, so its existence is not revealed)."""
    query = IngestionJob.filter(job_id=job_id)
    if submitter is not None:
        query = query.filter(submitted_by=submitter)
    return await query.first()
