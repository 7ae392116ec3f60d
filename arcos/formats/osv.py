"""OSV records (one record, a list, or `{"vulns": [...]}` as the OSV API answers) to a
VulnerabilityReport; withdrawn records are ignored and CVSS vectors are scored locally."""

from __future__ import annotations

import re
from typing import Any

from arcos.formats import json_document, severity
from arcos.formats.errors import UNPROCESSABLE, ArtifactRefused, ParseWarning
from arcos.formats.json_document import mapping, objects, text, texts
from arcos.formats.results import Severity, VulnerabilityReport
from arcos.formats.vulnerabilities import (
    Advisory,
    purl_for,
    vulnerability_report,
)

_CWE = re.compile(r"^CWE-?(\d{1,7})$", re.IGNORECASE | re.ASCII)


def parse(content: bytes) -> VulnerabilityReport:
    return from_document(json_document.load(content, what="OSV document"))


def from_document(document: Any) -> VulnerabilityReport:
    """Build the report from an OSV record, a list of records or `{"vulns": [...]}`."""
    records = _records(document)
    warnings: list[ParseWarning] = []
    advisories: list[Advisory] = []
    withdrawn = 0
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            warnings.append(f"skipped record {index}: not a JSON object")
            continue
        record_id = text(record.get("id"))
        if not record_id:
            warnings.append(f"skipped record {index}: it has no id")
            continue
        if record.get("withdrawn"):
            withdrawn += 1
            continue
        advisories.extend(_advisories(record, record_id))
    if withdrawn:
        warnings.append(f"ignored {withdrawn} withdrawn records")
    return vulnerability_report("osv", None, advisories, warnings)


def _records(document: Any) -> list[Any]:
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        if "vulns" in document:
            return json_document.expect_list(document.get("vulns"), "vulns")
        return [document]
    raise ArtifactRefused(
        UNPROCESSABLE, "an OSV document must be a record, an array of records or {\"vulns\": []}"
    )


def _advisories(record: dict[str, Any], record_id: str) -> list[Advisory]:
    score = _score(record)
    database = mapping(record.get("database_specific"))
    level: Severity = (
        severity.from_score(score) or severity.from_word(text(database.get("severity")))
        or "unknown"
    )
    cwes = []
    for cwe in texts(database.get("cwe_ids")):
        match = _CWE.match(cwe.strip())
        if match:
            cwes.append(f"CWE-{int(match.group(1))}")
    common = {
        "tool": "osv",
        "vulnerability_id": record_id,
        "aliases": texts(record.get("aliases")),
        "severity": level,
        "score": score if severity.from_score(score) else None,
        "message": text(record.get("summary")) or (text(record.get("details")) or "")[:500],
        "cwes": tuple(cwes),
    }
    affected = objects(record.get("affected"))
    if not affected:
        return [Advisory(component=None, version=None, purl=None, **common)]
    advisories = []
    for package_entry in affected:
        package = mapping(package_entry.get("package"))
        name = text(package.get("name"))
        purl = text(package.get("purl")) or purl_for(text(package.get("ecosystem")), name, None)
        advisories.append(Advisory(
            component=name,
            version=None,  # a record names affected ranges, not the installed version
            purl=purl,
            fixed_versions=_fixed(package_entry),
            **common,
        ))
    return advisories


def _score(record: dict[str, Any]) -> float | None:
    """The highest CVSS base score among the record's (and its packages') vectors."""
    entries = objects(record.get("severity"))
    for package_entry in objects(record.get("affected")):
        entries.extend(objects(package_entry.get("severity")))
    scores = []
    for entry in entries:
        kind = text(entry.get("type")) or ""
        if kind.startswith("CVSS"):
            score = severity.score_vector(text(entry.get("score")))
            if score is not None:
                scores.append(score)
    return max(scores) if scores else None


def _fixed(package_entry: dict[str, Any]) -> tuple[str, ...]:
    fixed = [
        version
        for version_range in objects(package_entry.get("ranges"))
        for event in objects(version_range.get("events"))
        if (version := text(event.get("fixed")))
    ]
    return tuple(dict.fromkeys(fixed))
