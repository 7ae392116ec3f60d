"""npm audit JSON v2 (npm ≥ 7, `auditReportVersion: 2`) to a VulnerabilityReport: one finding
per advisory object in a package's `via`; string `via` entries only point at a dependency."""

from __future__ import annotations

import re
from typing import Any

from arcos.formats import json_document, severity
from arcos.formats.errors import UNPROCESSABLE, ArtifactRefused, ParseWarning
from arcos.formats.json_document import mapping, number, objects, text, texts
from arcos.formats.results import Tool, VulnerabilityReport
from arcos.formats.vulnerabilities import (
    Advisory,
    purl_for,
    vulnerability_report,
)

_GHSA = re.compile(r"GHSA(-[23456789cfghjmpqrvwx]{4}){3}", re.IGNORECASE)
_CWE = re.compile(r"^CWE-?(\d{1,7})$", re.IGNORECASE | re.ASCII)


def parse(content: bytes) -> VulnerabilityReport:
    return from_document(json_document.load(content, what="npm audit report"))


def from_document(document: Any) -> VulnerabilityReport:
    """Build the report from an `npm audit --json` document (v2 only)."""
    report = json_document.expect_object(document, "the npm audit report")
    _check_version(report)
    packages = json_document.expect_object(report.get("vulnerabilities", {}), "vulnerabilities")
    warnings: list[ParseWarning] = []
    advisories: list[Advisory] = []
    for key, raw_entry in packages.items():
        entry = mapping(raw_entry)
        name = text(entry.get("name")) or key
        for via in objects(entry.get("via")):
            advisory = _advisory(name, entry, via)
            if advisory is None:
                warnings.append(f"skipped an advisory of {name} without a url, source or title")
            else:
                advisories.append(advisory)
    return vulnerability_report("npm-audit", Tool("npm audit", None), advisories, warnings)


def _check_version(report: dict[str, Any]) -> None:
    version = report.get("auditReportVersion")
    if version is None:
        if "advisories" in report:
            raise ArtifactRefused(
                UNPROCESSABLE,
                "this is an npm 6 (v1) audit report, which is not supported; run `npm audit "
                "--json` with npm 7 or later (auditReportVersion 2)",
            )
        error = mapping(report.get("error"))
        if error:
            summary = text(error.get("summary")) or text(error.get("code")) or "unknown error"
            raise ArtifactRefused(
                UNPROCESSABLE, f"npm audit failed and reported an error: {summary[:200]}"
            )
        raise ArtifactRefused(
            UNPROCESSABLE, "not an npm audit report: auditReportVersion is missing"
        )
    if json_document.integer(version) != 2:
        raise ArtifactRefused(
            UNPROCESSABLE,
            f"npm audit report version {str(version)[:20]!r} is not supported; only "
            "auditReportVersion 2 (npm ≥ 7) is",
        )


def _advisory(name: str, entry: dict[str, Any], via: dict[str, Any]) -> Advisory | None:
    url = text(via.get("url")) or ""
    source = text(via.get("source"))
    ghsa = _GHSA.search(url)
    npm_id = f"npm-advisory-{source}" if source else None
    vulnerability_id = ghsa.group(0) if ghsa else npm_id or text(via.get("title"))
    if not vulnerability_id:
        return None
    cvss = mapping(via.get("cvss"))
    score = number(cvss.get("score"))
    if not score:
        score = severity.score_vector(text(cvss.get("vectorString")))
    banded = severity.from_score(score)
    component = text(via.get("name")) or name
    fix = entry.get("fixAvailable")
    fixed: tuple[str, ...] = ()
    if isinstance(fix, dict) and text(fix.get("name")) == component and text(fix.get("version")):
        fixed = (str(text(fix.get("version"))),)
    cwes = []
    for cwe in texts(via.get("cwe")):
        match = _CWE.match(cwe.strip())
        if match:
            cwes.append(f"CWE-{int(match.group(1))}")
    return Advisory(
        tool="npm audit",
        vulnerability_id=vulnerability_id,
        aliases=(npm_id,) if ghsa and npm_id else (),
        severity=banded or severity.from_word(text(via.get("severity"))) or "unknown",
        score=score if banded else None,
        message=text(via.get("title")) or "",
        component=component,
        version=None,  # npm audit v2 names the vulnerable range, not the installed version
        purl=purl_for("npm", component, None),
        cwes=tuple(cwes),
        fixed_versions=fixed,
    )
