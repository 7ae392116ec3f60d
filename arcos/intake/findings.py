"""Findings tracked across scans: a scan of one project+tool+category opens what is new,
re-opens what came back, and marks as fixed what it no longer reports."""

from __future__ import annotations

import dataclasses
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from tortoise.queryset import QuerySet

from arcos.evidence.drafts import UNSTORABLE
from arcos.ingest import results
from arcos.intake.models import Finding, FindingState

#: Ids per UPDATE … WHERE id IN (…): under SQLite's and asyncpg's parameter limits.
ID_CHUNK = 500
MAX_LINE = 2**31 - 1
Scope = tuple[str, str]
Report = TypeVar("Report", results.StaticAnalysisReport, results.VulnerabilityReport)
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


def tracked_only(report: Report) -> Report:
    """The report with only the findings `record_scan` stores (one active finding per
    fingerprint and scope): what a parse worker hands back, since a log of 400,000
    results may name far fewer findings and every object crossing costs unpickling time
    on the server process."""
    kept = tuple(finding for members in scan_scopes(report).values() for finding in members)
    return dataclasses.replace(report, findings=kept)


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
    """Returns (newly open, newly fixed) for one scope.

    A scan may hold hundreds of thousands of findings: stored rows are read as plain
    tuples and new rows are inserted as plain values (see `_insert`), so neither the event
    loop nor the store's connection is held for long."""
    stored = {fingerprint: (row_id, state) for row_id, fingerprint, state in await _in_scope(
        project_id, scope
    ).using_db(connection).values_list("id", "fingerprint", "state")}
    reported = {finding.fingerprint for finding in members}
    fresh = [finding for finding in members if finding.fingerprint not in stored]
    again = [stored[fp] for fp in reported if fp in stored]
    reopened = sum(1 for _, state in again if state == FindingState.FIXED)
    gone = [row_id for fp, (row_id, state) in stored.items()
            if fp not in reported and state == FindingState.OPEN]
    await _insert(fresh, scope, project_id, evidence_uid, seen_at, connection)
    await _update([row_id for row_id, _ in again], connection, state=FindingState.OPEN,
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


async def _insert(
    fresh: Sequence[results.Finding],
    scope: Scope,
    project_id: int | None,
    evidence_uid: uuid.UUID,
    seen_at: datetime,
    connection: Any,
) -> None:
    """INSERT new findings ID_CHUNK rows per statement, with Tortoise's own INSERT for the
    table and dialect. Building a model per row cost ~0.2 ms of event-loop time each (a
    40,000-finding scan held the loop and the store's lock for seconds); here the values
    shared by every row are converted once and the rest are plain strings and ints."""
    tool, category = scope
    fields_map = Finding._meta.fields_map
    shared = {
        name: fields_map[name].to_db_value(value, None) for name, value in {
            "project_id": project_id, "tool": tool, "category": category,
            "state": FindingState.OPEN, "first_seen": seen_at, "last_seen": seen_at,
            "first_evidence_uid": evidence_uid, "last_evidence_uid": evidence_uid,
        }.items()
    }
    executor = connection.executor_class(model=Finding, db=connection)
    columns = executor.regular_columns
    for start in range(0, len(fresh), ID_CHUNK):
        rows = [{**shared, **_own_values(finding)} for finding in fresh[start:start + ID_CHUNK]]
        await connection.execute_many(
            executor.insert_query, [[row[column] for column in columns] for row in rows]
        )


def _own_values(finding: results.Finding) -> dict[str, Any]:
    """One finding's own column values, already in their stored form."""
    return {
        "kind": finding.kind, "fingerprint": finding.fingerprint[:128],
        "rule_id": storable(finding.rule_id, 255),
        "vulnerability_id": storable(finding.vulnerability_id, 255),
        "severity": finding.severity, "message": storable(finding.message) or "",
        "path": storable(finding.path), "line": _line(finding.line),
        "component": storable(finding.component, 255),
        "version": storable(finding.version, 255), "purl": storable(finding.purl),
    }
