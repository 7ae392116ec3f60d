"""Findings tracked across scans: a scan of one project+tool+category opens what is new,
re-opens what came back, and marks as fixed what it no longer reports.

One scan tracks at most `ARCOS_MAX_FINDINGS_PER_SCAN` findings, the most severe (like
GitHub code scanning, which shows the top 5,000 results of an upload by severity): the store
transaction holds the store's connection (SQLite's only one) for ~65 µs per finding, and a
log within GitHub's limits may name 500,000. The rest are counted in the metrics and named
in a warning, and tracking stays truthful: a stored finding the scan reported beyond the
limit is still open, not fixed (see `Tracking`).
"""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from tortoise.queryset import QuerySet

from arcos.formats import results
from arcos.intake.models import Finding, FindingState
from arcos.storable import storable

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
    untracked: int = 0
    """Active findings beyond ARCOS_MAX_FINDINGS_PER_SCAN: in `total`, not tracked."""


def _scope(finding: results.Finding) -> Scope:
    return storable(finding.tool, 128) or "", storable(finding.category or "", 255) or ""


def scan_scopes(
    report: results.StaticAnalysisReport | results.VulnerabilityReport,
) -> dict[Scope, list[results.Finding]]:
    """The report's active findings (one per fingerprint) grouped by scope.

    Tools that reported nothing still get their default scope, so a clean scan fixes the
    findings its previous scan reported. A vulnerability report naming no tool files its
    findings under its format ("cyclonedx", "osv"), and so its clean scan fixes those.
    """
    scopes: dict[Scope, dict[str, results.Finding]] = defaultdict(dict)
    if isinstance(report, results.StaticAnalysisReport):
        for tool in report.tools:
            scopes[(storable(tool.name, 128) or "", storable(tool.name.lower(), 255) or "")]
    else:
        scopes[(storable(report.tool.name if report.tool else report.format, 128) or "", "")]
    known: dict[tuple[str, str | None], Scope] = {}  # a scan names a few scopes, not one a finding
    for finding in report.findings:
        if not finding.suppressed:
            named = (finding.tool, finding.category)
            scope = known.get(named) or known.setdefault(named, _scope(finding))
            scopes[scope].setdefault(finding.fingerprint, finding)
    return {scope: list(members.values()) for scope, members in scopes.items()}


#: Bytes of a beyond-the-limit finding's key: 2**-64 chance that a fixed finding is
#: mistaken for one still reported (and so stays open one scan longer), never the reverse.
KEY_BYTES = 8


def _key(scope: Scope, fingerprint: str) -> bytes:
    """A finding's identity in a scope, as stored (fingerprints are kept to 128 characters)."""
    return _scope_key(_key_prefix(scope), fingerprint)


def _key_prefix(scope: Scope) -> str:
    """What every `_key` of one scope starts with."""
    return "".join(part + "\x1f" for part in scope)


def _scope_key(prefix: str, fingerprint: str) -> bytes:
    identity = (prefix + fingerprint[:128]).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(identity, digest_size=KEY_BYTES).digest()


@dataclass(frozen=True)
class Tracking:
    """Which of a scan's findings are beyond the per-scan limit, in a form that crosses
    from a parse worker as one bytes object (8 bytes a finding, sorted) rather than as
    hundreds of thousands of objects for the server process to unpickle and hold."""

    limit: int
    tracked: int = 0
    beyond: bytes = b""

    @property
    def untracked(self) -> int:
        return len(self.beyond) // KEY_BYTES

    def reported_beyond(self, scope: Scope, fingerprint: str) -> bool:
        """True when the scan reported this finding but did not track it: a stored finding
        for which this is true must not be marked fixed."""
        if not self.beyond:
            return False
        key, keys = _key(scope, fingerprint), _Keys(self.beyond)
        index = bisect.bisect_left(keys, key)
        return index < len(keys) and keys[index] == key

    def warning(self) -> str | None:
        if not self.beyond:
            return None
        return (
            f"the scan reports {self.tracked + self.untracked:,} findings; only the "
            f"{self.tracked:,} most severe are tracked (ARCOS_MAX_FINDINGS_PER_SCAN = "
            f"{self.limit:,}); the other {self.untracked:,} are counted in the metrics but not "
            "stored, and stay as they were (an open one is not marked fixed) — raise the "
            "setting or narrow the scan to track them"
        )


@dataclass(frozen=True)
class _Keys:
    """A sorted run of KEY_BYTES-byte keys, as a sequence `bisect` can search."""

    blob: bytes

    def __len__(self) -> int:
        return len(self.blob) // KEY_BYTES

    def __getitem__(self, index: int) -> bytes:
        return self.blob[index * KEY_BYTES:(index + 1) * KEY_BYTES]


#: 0 for critical, then high, medium, low, info and unknown (the enum's order).
_RANK_DIGITS: dict[results.Severity, str] = {
    severity: str(rank) for rank, severity in enumerate(results.SEVERITIES)
}


def track(report: Report, limit: int) -> tuple[Report, Tracking]:
    """The report with only the findings `record_scan` stores — one active finding per
    fingerprint and scope, at most `limit` of them, the most severe first (then by
    fingerprint, so the choice is the same on every run) — and what it left out.

    A parse worker calls this: a log of 400,000 results then hands back at most `limit`
    findings and one bytes object, since every object crossing costs unpickling time on
    the server process. The metrics must be taken from the report before this."""
    scopes = scan_scopes(report)
    # by scope, then (stable) by severity and fingerprint: one sort on plain strings, which
    # is several times faster than on (rank, fingerprint, scope) tuples
    scoped = [(scope, finding) for scope in sorted(scopes) for finding in scopes[scope]]
    scoped.sort(key=_severity_then_fingerprint)
    kept = tuple(finding for _, finding in scoped[:limit])
    prefixes = {scope: _key_prefix(scope) for scope in scopes}
    beyond = b"".join(sorted(
        _scope_key(prefixes[scope], finding.fingerprint) for scope, finding in scoped[limit:]
    ))
    tracking = Tracking(limit=limit, tracked=len(kept), beyond=beyond)
    warning = tracking.warning()
    warnings = report.warnings + ((warning,) if warning else ())
    return dataclasses.replace(report, findings=kept, warnings=warnings), tracking


def _severity_then_fingerprint(scoped: tuple[Scope, results.Finding]) -> str:
    """Most severe first, then by fingerprint: the rank is one digit, so the string orders
    as the (rank, fingerprint) pair would."""
    finding = scoped[1]
    return _RANK_DIGITS[finding.severity] + finding.fingerprint


async def record_scan(
    report: results.StaticAnalysisReport | results.VulnerabilityReport,
    project_id: int | None,
    evidence_uid: uuid.UUID,
    seen_at: datetime,
    connection: Any,
    tracking: Tracking | None = None,
) -> FindingsSummary:
    """Apply one scan to the stored findings inside the caller's transaction; `tracking`
    says which findings `track` left out of the report (none when not given)."""
    tracking = tracking or Tracking(limit=len(report.findings))
    total = new = fixed = 0
    for scope, members in scan_scopes(report).items():
        opened, closed = await _record_scope(
            scope, members, project_id, evidence_uid, seen_at, connection, tracking
        )
        total, new, fixed = total + len(members), new + opened, fixed + closed
    untracked = tracking.untracked
    return FindingsSummary(total=total + untracked, new=new, fixed=fixed, untracked=untracked)


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
    tracking: Tracking,
) -> tuple[int, int]:
    """Returns (newly open, newly fixed) for one scope.

    Stored rows are read as plain tuples and new rows are inserted as plain values (see
    `_insert`), so neither the event loop nor the store's connection is held for long.
    An open finding the scan reported beyond the limit is seen again, not fixed."""
    reported = {finding.fingerprint for finding in members}
    stored = await _stored(scope, project_id, reported, connection)
    fresh = [finding for finding in members if finding.fingerprint not in stored]
    seen: list[int] = []  # open, and reported again (perhaps beyond the limit)
    reopened: list[int] = []
    gone: list[int] = []
    for fp, (row_id, state) in stored.items():
        if fp in reported:
            (reopened if state == FindingState.FIXED else seen).append(row_id)
        elif state == FindingState.OPEN:
            (seen if tracking.reported_beyond(scope, fp) else gone).append(row_id)
    await _insert(fresh, scope, project_id, evidence_uid, seen_at, connection)
    # `state` is written only where it changes: each write of it moves the row in the
    # (project_id, state, id) index, even to the value it had
    await _update(reopened, connection, state=FindingState.OPEN, last_seen=seen_at,
                  last_evidence_uid=evidence_uid)
    await _update(seen, connection, last_seen=seen_at, last_evidence_uid=evidence_uid)
    await _update(gone, connection, state=FindingState.FIXED)
    return len(fresh) + len(reopened), len(gone)


async def _stored(
    scope: Scope, project_id: int | None, reported: set[str], connection: Any
) -> dict[str, tuple[int, FindingState]]:
    """fingerprint -> (id, state) of the scope's open findings and of its fixed ones this
    scan reports again: not the whole history of fixed findings, which grows by up to
    ARCOS_MAX_FINDINGS_PER_SCAN a scan and would make every later scan slower."""
    in_scope = _in_scope(project_id, scope).using_db(connection)
    fields = ("id", "fingerprint", "state")
    rows = list(await in_scope.filter(state=FindingState.OPEN).values_list(*fields))
    open_now = {fingerprint for _, fingerprint, _ in rows}
    again = sorted(fingerprint for fingerprint in reported if fingerprint not in open_now)
    for start in range(0, len(again), ID_CHUNK):
        rows += await in_scope.filter(
            state=FindingState.FIXED, fingerprint__in=again[start:start + ID_CHUNK]
        ).values_list(*fields)
    return {fingerprint: (row_id, state) for row_id, fingerprint, state in rows}


async def _update(ids: Sequence[int], connection: Any, **values: Any) -> None:
    """Set `values` on the rows `ids`: one prepared UPDATE … WHERE id = ? run for every id
    (executemany), with the values converted once, instead of an IN list of ID_CHUNK ids
    per statement that the query builder renders parameter by parameter."""
    if not ids:
        return
    fields_map = Finding._meta.fields_map
    shared = [fields_map[name].to_db_value(value, None) for name, value in values.items()]
    executor = connection.executor_class(model=Finding, db=connection)
    await connection.execute_many(
        executor.get_update_sql(list(values), None), [[*shared, row_id] for row_id in ids]
    )


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
