"""A project's standing against a compliance framework: every control's checks answered
from the project's evidence, quality metrics and open findings.

The reads are bounded by the kinds of data, not by the number of controls: the newest
item of each evidence type any check names (two queries), the newest value of each metric
any check names (one ranked query), and the open findings counted by kind, severity and
the scan that last saw them (one grouped query), whatever the framework's size. Read as
of a past moment (`read_project(..., at=...)`, for assurance cases' `caseStatusAt`), the
newest items and values take one indexed query per type and per metric name.

Each check answers SATISFIED, FAILING (the evidence shows the condition unmet), MISSING
(no evidence of the kind) or STALE (the newest evidence is older than the check allows);
a control is as bad as its worst check, in that order of badness: FAILING, MISSING,
STALE, SATISFIED.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from tortoise.expressions import Q, RawSQL
from tortoise.functions import Count

from arcos.community.checks import FINDING_FAMILIES, SBOM_TYPE, Check, FindingFamily
from arcos.community.compliance_content import Control, Framework
from arcos.evidence.drafts import SLUG
from arcos.evidence.models import Evidence, Project
from arcos.intake.latest import latest_metrics
from arcos.intake.models import Finding, FindingState, QualityMetric
from arcos.problems import BadUserInput, NotFound

#: The most finding-scan ids one failing check cites.
MAX_CITED = 20


class Status(StrEnum):
    SATISFIED = "satisfied"
    FAILING = "failing"
    MISSING = "missing"
    STALE = "stale"


#: Worst first: a control takes the first of these any of its checks has.
BADNESS = (Status.FAILING, Status.MISSING, Status.STALE, Status.SATISFIED)


@dataclass(frozen=True)
class CheckResult:
    check: Check
    status: Status
    #: Why, in a sentence: what was found and what the check wanted.
    detail: str
    evidence_uids: tuple[uuid.UUID, ...] = ()
    observed_at: datetime | None = None
    value: float | None = None


@dataclass(frozen=True)
class ControlResult:
    control: Control
    status: Status
    checks: tuple[CheckResult, ...]

    @property
    def evidence_uids(self) -> tuple[uuid.UUID, ...]:
        return tuple(dict.fromkeys(u for result in self.checks for u in result.evidence_uids))


@dataclass(frozen=True)
class FrameworkStatus:
    framework: Framework
    project: str
    evaluated_at: datetime
    controls: tuple[ControlResult, ...]

    @property
    def summary(self) -> dict[Status, int]:
        counts = Counter(result.status for result in self.controls)
        return {status: counts[status] for status in BADNESS}


@dataclass(frozen=True)
class Seen:
    """The newest evidence item of one type."""

    uid: uuid.UUID
    created_at: datetime


@dataclass
class ProjectData:
    """What the evaluation read, keyed the way checks ask for it."""

    newest: dict[str, Seen] = field(default_factory=dict)
    metrics: dict[str, QualityMetric] = field(default_factory=dict)
    #: (finding kind, severity) → {scan evidence uid: open findings it last saw}
    open_findings: dict[tuple[str, str], dict[uuid.UUID, int]] = field(default_factory=dict)


async def project_status(framework: Framework, slug: str, now: datetime) -> FrameworkStatus:
    """Evaluate every control of `framework` for the project `slug` at time `now`."""
    slug = slug.strip().lower()
    if not SLUG.match(slug):
        raise BadUserInput(f"project {slug!r:.80} is not a slug like github.com/owner/repo")
    project = await Project.get_or_none(slug=slug)
    if project is None:
        raise NotFound(f"no project {slug!r:.80}: give a slug that has evidence, like "
                       "github.com/owner/repo")
    checks = [check for item in framework.controls for check in item.checks]
    data = await read_project(project.id, checks)
    controls = tuple(evaluate_control(item, data, now) for item in framework.controls)
    return FrameworkStatus(framework, project.slug, now, controls)


async def read_project(project_id: int, checks: Sequence[Check],
                       at: datetime | None = None) -> ProjectData:
    """Everything `checks` need, in at most four queries; with `at`, what the store held at
    that moment (see `_newest_evidence_at`, `_newest_metrics_at`, `_open_findings`)."""
    types: set[str] = set()
    names: set[str] = set()
    wants_findings = False
    for check in checks:
        if check.kind == "evidence":
            types.update(check.types)
        elif check.kind == "sbom":
            types.add(SBOM_TYPE)
        elif (counted := check.finding_family) is not None:
            types.add(counted[0].report)
            if counted[0].also:  # the newest `total` says when such an upload last scanned
                names.add(counted[0].total)
            wants_findings = True
        elif check.metric is not None:
            names.add(check.metric)
    data = ProjectData()
    if types:
        data.newest = await (_newest_evidence(project_id, sorted(types)) if at is None
                             else _newest_evidence_at(project_id, sorted(types), at))
    if names:
        if at is None:
            rows = (await latest_metrics([project_id], sorted(names))).get(project_id, [])
            data.metrics = {row.name: row for row in rows}
        else:
            data.metrics = await _newest_metrics_at(project_id, sorted(names), at)
    if wants_findings:
        scans = None
        if at is not None:  # when each family was last scanned by `at`
            scans = {family.kind: newest[1].created_at for family in FINDING_FAMILIES.values()
                     if (newest := _newest_scan(family, data)) is not None}
        data.open_findings = await _open_findings(project_id, at, scans)
    return data


#: The newest evidence of each type of one project (`{project}`, an integer, inlined): the
#: latest `created_at` — when the server received it, the time staleness is measured from
#: — and, among rows of one instant, the later insert.
_NEWEST_SEQS = (
    "(SELECT seq FROM (SELECT seq, ROW_NUMBER() OVER (PARTITION BY type "
    "ORDER BY created_at DESC, seq DESC) AS newness FROM evidence "
    "WHERE project_id = {project}) ranked WHERE newness = 1)"
)


async def _newest_evidence(project_id: int, types: list[str]) -> dict[str, Seen]:
    """The newest evidence of each of `types` by `created_at` (not by `seq`, the insertion
    order), in one query."""
    newest = RawSQL(_NEWEST_SEQS.format(project=int(project_id)))
    rows = await Evidence.filter(project_id=project_id, type__in=types, seq__in=newest
                                 ).values_list("type", "uid", "created_at")
    return {kind: Seen(_uuid(uid), created_at) for kind, uid, created_at in rows}


async def _newest_evidence_at(project_id: int, types: list[str],
                             at: datetime) -> dict[str, Seen]:
    """The newest evidence of each of `types` received by `at`: one indexed query per type
    (the ranked query above inlines its bounds, and a time is not inlined)."""
    newest = {}
    for kind in types:
        row = await Evidence.filter(project_id=project_id, type=kind, created_at__lte=at
                                    ).order_by("-created_at", "-seq").first(
                                    ).values_list("uid", "created_at")
        if row is not None:
            newest[kind] = Seen(_uuid(row[0]), row[1])
    return newest


async def _newest_metrics_at(project_id: int, names: list[str],
                             at: datetime) -> dict[str, QualityMetric]:
    """The newest value of each of `names` recorded by `at` (a metric row's timestamp is
    its evidence's `created_at`): one query per name on the (project, name, timestamp)
    index."""
    metrics = {}
    for name in names:
        row = await QualityMetric.filter(project_id=project_id, name=name, timestamp__lte=at
                                         ).order_by("-timestamp", "-id").first()
        if row is not None:
            metrics[name] = row
    return metrics


async def _open_findings(project_id: int, at: datetime | None = None,
                         scans: dict[str, datetime] | None = None,
                         ) -> dict[tuple[str, str], dict[uuid.UUID, int]]:
    """Open findings by (kind, severity) and the scan that last saw them; with `at`, the
    findings open at that moment, by the scan that first saw them (`scans`: the newest scan
    of each finding kind by `at`).

    A finding keeps only its first and last sighting, so the past is read from those: it
    was open at `at` when first seen by then and either still open, or seen by the newest
    scan of its kind before `at` (a fixed finding was fixed by the scan after its last
    sighting; with several tools of one kind, the next scan of any of them is taken for
    it). One fixed and reopened after `at` counts as open."""
    if at is None:
        query = Finding.filter(project_id=project_id, state=FindingState.OPEN)
        scan = "last_evidence_uid"
    else:
        seen_since = Q(state=FindingState.OPEN)
        for kind, newest in (scans or {}).items():
            seen_since |= Q(kind=kind, last_seen__gte=newest)
        query = Finding.filter(seen_since, project_id=project_id, first_seen__lte=at)
        scan = "first_evidence_uid"
    rows = await (
        query.annotate(open=Count("id")).group_by("kind", "severity", scan)
        .values_list("kind", "severity", scan, "open")
    )
    found: dict[tuple[str, str], dict[uuid.UUID, int]] = {}
    for kind, severity, scan, count in rows:
        found.setdefault((kind, severity), {})[_uuid(scan)] = int(count)
    return found


def _uuid(value: object) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def evaluate_control(control: Control, data: ProjectData, now: datetime) -> ControlResult:
    results = tuple(evaluate_check(check, data, now) for check in control.checks)
    status = next(s for s in BADNESS if any(r.status == s for r in results)) \
        if results else Status.MISSING
    return ControlResult(control, status, results)


def evaluate_check(check: Check, data: ProjectData, now: datetime) -> CheckResult:
    if check.kind in ("evidence", "sbom"):
        types = check.types if check.kind == "evidence" else (SBOM_TYPE,)
        return _evidence_result(check, types, data, now)
    if check.finding_family is not None:
        return _findings_result(check, data, now)
    return _metric_result(check, data, now)


def _fresh(check: Check, at: datetime, now: datetime) -> bool:
    return now - at <= timedelta(days=check.days)


def _age(at: datetime, now: datetime) -> str:
    return f"{max(0, (now - at).days)} days old"


def _evidence_result(check: Check, types: Sequence[str], data: ProjectData,
                     now: datetime) -> CheckResult:
    seen = [(kind, data.newest[kind]) for kind in types if kind in data.newest]
    wanted = " or ".join(types)
    if not seen:
        return CheckResult(check, Status.MISSING, f"no {wanted} evidence for this project")
    kind, newest = max(seen, key=lambda pair: pair[1].created_at)
    if not _fresh(check, newest.created_at, now):
        return CheckResult(check, Status.STALE, f"the newest {kind} evidence is "
                           f"{_age(newest.created_at, now)}; it must be at most {check.days}",
                           (newest.uid,), newest.created_at)
    return CheckResult(check, Status.SATISFIED, f"{kind} evidence, {_age(newest.created_at, now)}",
                       (newest.uid,), newest.created_at)


def _metric_result(check: Check, data: ProjectData, now: datetime) -> CheckResult:
    row = data.metrics.get(str(check.metric))
    if row is None:
        return CheckResult(check, Status.MISSING, f"no {check.metric} value recorded for this "
                           "project")
    found = f"{check.metric} = {row.value:g}"
    cited = (_uuid(row.evidence_uid),)
    if not check.passes(row.value):
        return CheckResult(check, Status.FAILING, f"{found}; needs {check.op} "
                           f"{check.threshold:g}", cited, row.timestamp, row.value)
    if not _fresh(check, row.timestamp, now):
        return CheckResult(check, Status.STALE, f"{found}, but it is {_age(row.timestamp, now)}; "
                           f"it must be at most {check.days}", cited, row.timestamp, row.value)
    return CheckResult(check, Status.SATISFIED, found, cited, row.timestamp, row.value)


def _newest_scan(family: FindingFamily, data: ProjectData) -> tuple[str, Seen] | None:
    """The evidence type and item of the newest scan that dates `family`'s count."""
    seen = [(family.report, data.newest[family.report])] if family.report in data.newest else []
    row = data.metrics.get(family.total)
    if row is not None and (kind := (row.metadata or {}).get("type")) in family.also:
        seen.append((kind, Seen(_uuid(row.evidence_uid), row.timestamp)))
    return max(seen, key=lambda pair: pair[1].created_at, default=None)


def _findings_result(check: Check, data: ProjectData, now: datetime) -> CheckResult:
    assert check.finding_family is not None
    family, severity = check.finding_family
    kind = family.kind
    newest = _newest_scan(family, data)
    if newest is None:
        return CheckResult(check, Status.MISSING, f"no {family.describe()} for this project, "
                           f"so {check.metric} is unknown")
    dating, scan = newest
    by_scan: Counter[uuid.UUID] = Counter()
    for (found_kind, found_severity), scans in data.open_findings.items():
        if found_kind == kind and (severity is None or found_severity == severity):
            by_scan.update(scans)
    value = float(sum(by_scan.values()))
    found = f"{check.metric} = {value:g} open"
    if not check.passes(value):
        cited = (scan.uid, *[uid for uid, _ in by_scan.most_common(MAX_CITED)])
        return CheckResult(check, Status.FAILING, f"{found}; needs {check.op} "
                           f"{check.threshold:g}", tuple(dict.fromkeys(cited)), scan.created_at,
                           value)
    if not _fresh(check, scan.created_at, now):
        return CheckResult(check, Status.STALE, f"{found}, but the newest {dating} is "
                           f"{_age(scan.created_at, now)}; it must be at most {check.days}",
                           (scan.uid,), scan.created_at, value)
    return CheckResult(check, Status.SATISFIED, found, (scan.uid,), scan.created_at, value)
