"""pip-audit JSON (`pip-audit -f json`) to a VulnerabilityReport. pip-audit carries no
severity (so: unknown), and a skip_reason means the audit is incomplete, not clean."""

from __future__ import annotations

from typing import Any

from arcos.formats import json_document
from arcos.formats.errors import ParseWarning
from arcos.formats.json_document import objects, text, texts
from arcos.formats.results import Tool, VulnerabilityReport
from arcos.formats.vulnerabilities import (
    Advisory,
    purl_for,
    vulnerability_report,
)


def parse(content: bytes) -> VulnerabilityReport:
    return from_document(json_document.load(content, what="pip-audit report"))


def from_document(document: Any) -> VulnerabilityReport:
    """Build the report from `{"dependencies": [...], "fixes": [...]}`."""
    report = json_document.expect_object(document, "the pip-audit report")
    dependencies = json_document.expect_list(report.get("dependencies"), "dependencies")
    warnings: list[ParseWarning] = []
    advisories: list[Advisory] = []
    skipped = 0
    for dependency in objects(dependencies):
        name = text(dependency.get("name"))
        if not name:
            warnings.append("skipped a dependency without a name")
            continue
        reason = text(dependency.get("skip_reason"))
        if reason is not None:
            skipped += 1
            warnings.append(f"pip-audit skipped {name}: {reason}")
            continue
        version = text(dependency.get("version"))
        purl = purl_for("PyPI", name, version)
        for vulnerability in objects(dependency.get("vulns")):
            vulnerability_id = text(vulnerability.get("id"))
            if not vulnerability_id:
                warnings.append(f"skipped a vulnerability of {name} without an id")
                continue
            advisories.append(Advisory(
                tool="pip-audit",
                vulnerability_id=vulnerability_id,
                aliases=texts(vulnerability.get("aliases")),
                severity="unknown",
                score=None,
                message=text(vulnerability.get("description")) or "",
                component=name,
                version=version,
                purl=purl,
                fixed_versions=texts(vulnerability.get("fix_versions")),
            ))
    if skipped:
        warnings.append(
            f"the audit is incomplete: {skipped} dependencies were skipped, so they may hide "
            "vulnerabilities"
        )
    return vulnerability_report(
        "pip-audit", Tool("pip-audit", None), advisories, warnings, incomplete=skipped > 0
    )
