"""The evidence an artifact becomes: a compact, JSON-safe summary (totals, warnings, a few
examples), never the artifact itself, so evidence stays small however large the report."""

from __future__ import annotations

import re
from collections import Counter
from itertools import islice
from typing import Any

from arcos.evidence.drafts import IDENTIFIER
from arcos.formats.results import (
    SEVERITIES,
    BuildRecord,
    CoverageReport,
    Result,
    Sbom,
    StaticAnalysisReport,
    TestReport,
    Tool,
    VulnerabilityReport,
)
from arcos.intake.findings import Tracking
from arcos.storable import scrub

#: Failing test cases named in a test report's evidence; the rest are only counted.
MAX_LISTED_FAILURES = 20


def tools_of(result: Result) -> tuple[Tool, ...]:
    """The tools an artifact names (a SARIF log may name several)."""
    if isinstance(result, StaticAnalysisReport):
        return result.tools
    tool = getattr(result, "tool", None)
    return (tool,) if tool is not None else ()


def source_of(result: Result) -> str:
    """The evidence `source`: the first tool's name as an identifier, else the format."""
    for tool in tools_of(result):
        name = re.sub(r"\s+", "-", tool.name.strip().lower())
        if IDENTIFIER.match(name):
            return name
    return result.format


def summarize(result: Result, tracking: Tracking | None = None) -> dict[str, Any]:
    """Evidence `data` for a parsed artifact; for a scan, `tracking` says how many of its
    findings are tracked and how many were beyond ARCOS_MAX_FINDINGS_PER_SCAN (for an SBOM
    that embeds vulnerabilities, under `data.vulnerabilities` with the scan's totals)."""
    data: dict[str, Any] = {
        "format": result.format,
        "tools": [{"name": tool.name, "version": tool.version} for tool in tools_of(result)],
        "metrics": result.metrics(),
        "warnings": list(result.warnings),
    }
    data.update(_details(result, tracking))
    return scrub(data)


def _details(result: Result, tracking: Tracking | None) -> dict[str, Any]:
    if isinstance(result, TestReport):
        return _tests(result)
    if isinstance(result, CoverageReport):
        return {"files": len(result.files), "tool_percent_covered": result.tool_percent_covered}
    if isinstance(result, StaticAnalysisReport | VulnerabilityReport):
        return _findings(result, tracking)
    if isinstance(result, Sbom):
        return _sbom(result, tracking)
    return _build(result)


def _tests(report: TestReport) -> dict[str, Any]:
    counts = report.outcome_counts()
    failing = (case for case in report.cases if case.outcome in ("failed", "errored"))
    listed = [
        {"classname": case.classname, "name": case.name, "outcome": case.outcome}
        for case in islice(failing, MAX_LISTED_FAILURES)
    ]
    return {
        "totals": {
            "total": report.total, "passed": counts["passed"], "failed": counts["failed"],
            "errored": counts["errored"], "skipped": counts["skipped"], "flaky": counts["flaky"],
        },
        "failures": listed,
        "failures_not_listed": counts["failed"] + counts["errored"] - len(listed),
    }


def _findings(
    report: StaticAnalysisReport | VulnerabilityReport, tracking: Tracking | None
) -> dict[str, Any]:
    active = [finding for finding in report.findings if not finding.suppressed]
    counts = Counter(finding.severity for finding in active)
    details: dict[str, Any] = {
        "totals": {
            "total": len(active),
            "suppressed": len(report.findings) - len(active),
            **{severity: counts[severity] for severity in SEVERITIES},
        },
        "rules": sorted({finding.rule_id for finding in active})[:100],
    }
    if isinstance(report, VulnerabilityReport):
        details["vulnerable_components"] = report.vulnerable_components
        details["incomplete"] = report.incomplete
    if tracking is not None:
        details["tracking"] = {"tracked": tracking.tracked, "beyond_limit": tracking.untracked,
                               "limit": tracking.limit}
    return details


def _sbom(sbom: Sbom, tracking: Tracking | None) -> dict[str, Any]:
    subject = sbom.subject
    scan = sbom.vulnerabilities
    return {
        "spec_version": sbom.spec_version,
        "subject": None if subject is None else {
            "name": subject.name, "version": subject.version, "purl": subject.purl,
        },
        "totals": {"components": len(sbom.components), "licenses_unknown": sbom.licenses_unknown},
        "vulnerabilities": None if scan is None else _findings(scan, tracking),
    }


def _build(record: BuildRecord) -> dict[str, Any]:
    return {
        "status": record.status,
        "duration_seconds": record.duration_seconds,
        "commit": record.commit,
        "ref": record.ref,
        "pipeline_id": record.pipeline_id,
        "environment": record.environment,
        "started_at": record.started_at.isoformat() if record.started_at else None,
        "finished_at": record.finished_at.isoformat() if record.finished_at else None,
    }
