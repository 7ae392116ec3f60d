"""Findings tracked across scans: a scan of one project+tool+category opens what is new,
re-opens what came back, and marks as fixed what it no longer reports."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.queryset import QuerySet

from arcos.evidence.drafts import UNSTORABLE
from arcos.ingest import results
from arcos.intake.models import Finding, FindingState

#: Ids per UPDATE … WHERE id IN (…): under SQLite's and asyncpg's parameter limits.
ID_CHUNK = 500
MAX_LINE = 2**31 - 1
Scope = tuple[str, str]
"""(tool, category): what one scan speaks for."""


@dataclass(frozen=True)
class FindingsSummary:
    """Active findings in the scan, and how the project's open findings changed."""

    total: int = 0
    new: int = 0
    fixed: int = 0


def storable(value: str | None, limit: int | None = None) -> str | None:
    """Text a store can keep: without NUL or lone surrogates, and at most `limit` characters."""
    if value is None:
        return None
    cleaned = UNSTORABLE.sub("", value)
    return cleaned[:limit] if limit is not None else cleaned


def _scope(finding: results.Finding) -> Scope:
    return storable(finding.tool, 128) or "", storable(finding.category or "", 255) or ""


def scan_scopes(
    report: results.StaticAnalysisReport | results.VulnerabilityReport,
) -> dict[Scope, list[results.Finding]]:
    """The report's active findings (one per fingerprint) grouped by scope.

    Tools that reported nothing still get their default scope, so a clean scan fixes the
    findings its previous scan reported.
    """
    scopes: dict[Scope, dict[str, results.Finding]] = defaultdict(dict)
    if isinstance(report, results.StaticAnalysisReport):
        for tool in report.tools:
            scopes[(storable(tool.name, 128) or "", storable(tool.name.lower(), 255) or "")]
    elif report.tool is not None:
        scopes[(storable(report.tool.name, 128) or "", "")]
    for finding in report.findings:
        if not finding.suppressed:
            scopes[_scope(finding)].setdefault(finding.fingerprint, finding)
    return {scope: list(members.values()) for scope, members in scopes.items()}


async def record_scan(
    report: results.StaticAnalysisReport | results.VulnerabilityReport,
    project_id: int | None,
    evidence_uid: uuid.UUID,
    seen_at: datetime,
    connection: Any,
) -> FindingsSummary:
    """Apply one scan to the stored findings inside the caller's transaction."""
    total = new = fixed = 0
    for scope, members in scan_scopes(report).items():
        opened, closed = await _record_scope(
            scope, members, project_id, evidence_uid, seen_at, connection
        )
        total, new, fixed = total + len(members), new + opened, fixed + closed
    return FindingsSummary(total=total, new=new, fixed=fixed)


def _in_scope(project_id: int | None, scope: Scope) -> QuerySet[Finding]:
    tool, category = scope
    queryset = Finding.filter(tool=tool, category=category)
    if project_id is None:
        return queryset.filter(project_id__isnull=True)
    return queryset.filter(project_id=project_id)


async def _record_scope(
    scope: Scope,
    members: Sequence[results.Finding],
    project_id: int | None,
    evidence_uid: uuid.UUID,
    seen_at: datetime,
    connection: Any,
) -> tuple[int, int]:
    """Returns (newly open, newly fixed) for one scope."""
    stored = {row.fingerprint: row for row in await _in_scope(project_id, scope).using_db(
        connection
    )}
    reported = {finding.fingerprint for finding in members}
    fresh = [finding for finding in members if finding.fingerprint not in stored]
    again = [stored[fp] for fp in reported if fp in stored]
    reopened = sum(1 for row in again if row.state == FindingState.FIXED)
    gone = [row.id for fp, row in stored.items()
            if fp not in reported and row.state == FindingState.OPEN]
    await Finding.bulk_create(
        [_new_row(f, scope, project_id, evidence_uid, seen_at) for f in fresh],
        batch_size=ID_CHUNK, using_db=connection,
    )
    await _update([row.id for row in again], connection, state=FindingState.OPEN,
                  last_seen=seen_at, last_evidence_uid=evidence_uid)
    await _update(gone, connection, state=FindingState.FIXED)
    return len(fresh) + reopened, len(gone)


async def _update(ids: Iterable[int], connection: Any, **values: Any) -> None:
    pending = list(ids)
    for start in range(0, len(pending), ID_CHUNK):
        chunk = pending[start:start + ID_CHUNK]
        await Finding.filter(id__in=chunk).using_db(connection).update(**values)


def _line(line: int | None) -> int | None:
    """The line when a 32-bit column can hold it (a hostile log may claim any number)."""
    return line if line is not None and 0 <= line <= MAX_LINE else None


def _new_row(
    finding: results.Finding,
    scope: Scope,
    project_id: int | None,
    evidence_uid: uuid.UUID,
    seen_at: datetime,
) -> Finding:
    tool, category = scope
    return Finding(
        project_id=project_id, tool=tool, category=category, kind=finding.kind,
        fingerprint=finding.fingerprint[:128],
        rule_id=storable(finding.rule_id, 255),
        vulnerability_id=storable(finding.vulnerability_id, 255),
        severity=finding.severity, message=storable(finding.message) or "",
        path=storable(finding.path), line=_line(finding.line),
        component=storable(finding.component, 255), version=storable(finding.version, 255),
        purl=storable(finding.purl), state=FindingState.OPEN,
        first_seen=seen_at, last_seen=seen_at,
        first_evidence_uid=evidence_uid, last_evidence_uid=evidence_uid,
    )
