"""The one entry point the evidence mutations call: decode (gunzip, size cap) → detect the
format → run that format's pure parser, with the limits taken from settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from arcos.formats import (
    build,
    cobertura,
    coverage_json,
    cyclonedx,
    detect,
    json_document,
    junit,
    lcov,
    npm_audit,
    osv,
    pip_audit,
    sarif,
    spdx,
)
from arcos.formats.errors import UNPROCESSABLE, ArtifactRefused
from arcos.formats.limits import Limits
from arcos.formats.payload import decode
from arcos.formats.results import Kind, Result

FORMAT_KINDS: dict[str, tuple[Kind, ...]] = {
    "junit": ("test_report",),
    "cobertura": ("coverage_report",),
    "coverage-json": ("coverage_report",),
    "lcov": ("coverage_report",),
    "sarif": ("sast_report",),
    "cyclonedx": ("sbom", "vulnerability_report"),
    "spdx": ("sbom",),
    "osv": ("vulnerability_report",),
    "pip-audit": ("vulnerability_report",),
    "npm-audit": ("vulnerability_report",),
    "build": ("build",),
}
KINDS: tuple[Kind, ...] = (
    "test_report", "coverage_report", "sast_report", "vulnerability_report", "sbom", "build",
)
_GZIP_TYPES = ("application/gzip", "application/x-gzip")
_TEXT_PARSERS: dict[str, Callable[[bytes], Result]] = {
    "junit": junit.parse,
    "cobertura": cobertura.parse,
    "lcov": lcov.parse,
}
_DOCUMENT_PARSERS: dict[str, Callable[[Any], Result]] = {
    "coverage-json": coverage_json.from_document,
    "spdx": spdx.from_document,
    "osv": osv.from_document,
    "pip-audit": pip_audit.from_document,
    "npm-audit": npm_audit.from_document,
    "build": build.from_document,
}


def parse(
    content: bytes,
    *,
    format: str | None = None,
    content_type: str | None = None,
    kind: Kind | None = None,
    limits: Limits,
    source_root: str | None = None,
) -> Result:
    """Parse an uploaded artifact into its normalised result.

    `format` (a format name) or else `content_type` (e.g. application/sarif+json) selects the
    parser when given; otherwise the format is sniffed. `kind` restricts what the caller
    accepts (submitSbom passes "sbom": a CycloneDX BOM then yields an Sbom, and a JUnit file
    is refused). `source_root` is the checkout directory SARIF paths are made relative to.
    Raises ArtifactRefused (400/413/422) for anything that cannot be accepted.
    """
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    data = decode(
        content, gzip=True if media_type in _GZIP_TYPES else None,
        max_bytes=limits.max_decompressed_bytes, max_members=limits.max_gzip_members,
    )
    hinted = detect.format_from_hint(format) if format else detect.format_from_hint(content_type)
    head = detect.head_text(data)
    document: Any = None
    if detect.looks_like_json(head):
        document = json_document.load(data, what="JSON artifact")
        chosen = detect.resolve(hinted, detect.detect_document(document))
    else:
        chosen = detect.resolve(hinted, detect.sniff_text(head))
    _check_kind(chosen, kind)
    if chosen in _TEXT_PARSERS:
        return _TEXT_PARSERS[chosen](data)
    if document is None:
        raise ArtifactRefused(
            UNPROCESSABLE, f"a {chosen} artifact must be a JSON document; this one is not JSON"
        )
    if chosen == "sarif":
        return sarif.from_document(
            document,
            max_runs=limits.max_sarif_runs,
            max_results_per_run=limits.max_results_per_run,
            source_root=source_root,
        )
    if chosen == "cyclonedx":
        wants_vulnerabilities = kind == "vulnerability_report" or (
            kind is None and cyclonedx.has_vulnerabilities(document)
        )
        if wants_vulnerabilities:
            return cyclonedx.vulnerabilities_from_document(document)
        return cyclonedx.sbom_from_document(document)
    return _DOCUMENT_PARSERS[chosen](document)


def _check_kind(chosen: str, kind: Kind | None) -> None:
    if kind is None or kind in FORMAT_KINDS[chosen]:
        return
    accepted = [name for name, kinds in FORMAT_KINDS.items() if kind in kinds]
    raise ArtifactRefused(
        UNPROCESSABLE,
        f"a {chosen} artifact is not a {kind.replace('_', ' ')}; this upload accepts: "
        + ", ".join(accepted),
    )
