"""Which artifact format a body is: an explicit format or content type when valid, otherwise
sniffed from the XML root element, the JSON keys or LCOV's record prefixes."""

from __future__ import annotations

import codecs
import re
from typing import Any

from arcos.formats import json_document
from arcos.formats.errors import UNPROCESSABLE, ArtifactRefused

FORMATS: tuple[str, ...] = (
    "junit", "cobertura", "coverage-json", "lcov", "sarif", "cyclonedx", "spdx", "osv",
    "pip-audit", "npm-audit", "build",
)
_ALIASES = {
    "xunit": "junit", "junit-xml": "junit", "surefire": "junit",
    "coverage-xml": "cobertura", "coverage.py": "coverage-json", "coveragepy": "coverage-json",
    "cdx": "cyclonedx", "cyclonedx-json": "cyclonedx", "spdx-json": "spdx",
    "pip_audit": "pip-audit", "npm_audit": "npm-audit", "npm": "npm-audit",
}
CONTENT_TYPES = {
    "application/sarif+json": "sarif",
    "application/vnd.cyclonedx+json": "cyclonedx",
    "application/spdx+json": "spdx",
    "application/vnd.osv+json": "osv",
    "application/x-lcov": "lcov",
}
_HEAD_CHARS = 64 * 1024
_LCOV_LINE = re.compile(r"^(TN|SF|VER|DA|LF|LH|FN|FNDA|FNF|FNH|BRDA|BRF|BRH):|^end_of_record$")
_ROOT_NAME = re.compile(r"<([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")
_BUILD_KEYS = {"duration_seconds", "commit", "pipeline_id", "ref", "started_at", "environment"}


def accepted() -> str:
    return ", ".join(FORMATS)


def normalise_format(name: str) -> str:
    """A valid format name for `name` (case-insensitive, common aliases), or 422."""
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in FORMATS:
        raise ArtifactRefused(
            UNPROCESSABLE, f"unknown artifact format {name!r}; use one of: {accepted()}"
        )
    return key


def format_from_hint(hint: str | None) -> str | None:
    """The format an explicit format name or a specific content type names, else None.

    Generic content types (application/json, text/xml, …) name no format; an unknown format
    name is refused.
    """
    if hint is None or not hint.strip():
        return None
    if "/" in hint:
        media_type = hint.split(";", 1)[0].strip().lower()
        return CONTENT_TYPES.get(media_type)
    return normalise_format(hint)


def detect(content: bytes, hint: str | None = None) -> str:
    """The format of `content`; `hint` (a format name or a content type) wins when it names
    a format and the content does not clearly look like a different one."""
    hinted = format_from_hint(hint)
    head = head_text(content)
    if looks_like_json(head):
        document = json_document.load(content, what="JSON artifact")
        return resolve(hinted, detect_document(document))
    return resolve(hinted, sniff_text(head))


def resolve(hinted: str | None, sniffed: str | None) -> str:
    """Combine an explicit format with what sniffing found."""
    if hinted is not None:
        if sniffed is not None and sniffed != hinted:
            raise ArtifactRefused(
                UNPROCESSABLE,
                f"the artifact was sent as {hinted} but its content looks like {sniffed}; "
                "send the right format name or file",
            )
        return hinted
    if sniffed is None:
        raise ArtifactRefused(
            UNPROCESSABLE,
            "unrecognised artifact: accepted formats are JUnit XML, Cobertura XML, coverage.py "
            "JSON, LCOV, SARIF 2.1.0, CycloneDX JSON, SPDX 2.3 JSON, OSV JSON, pip-audit JSON, "
            f"npm audit v2 JSON and ARCOS build JSON (format names: {accepted()})",
        )
    return sniffed


def head_text(content: bytes) -> str:
    """The first 64 KiB as text (BOM honoured), leading whitespace removed, for sniffing."""
    head = content[:_HEAD_CHARS]
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if head.startswith(bom):
            return head[len(bom):].decode(encoding, errors="ignore").lstrip()
    return head.decode("utf-8", errors="ignore").lstrip()


def looks_like_json(head: str) -> bool:
    return head.startswith(("{", "["))


def sniff_text(head: str) -> str | None:
    """The format of a non-JSON body from its first characters (XML root or LCOV records)."""
    if head.startswith("<"):
        return _xml_format(_xml_root(head))
    first_line = head.split("\n", 1)[0].strip()
    if _LCOV_LINE.match(first_line):
        return "lcov"
    if first_line.startswith(("SPDXVersion:", "##fileformat")):
        raise ArtifactRefused(
            UNPROCESSABLE, "only SPDX JSON is accepted; export the SBOM as SPDX 2.3 JSON"
        )
    return None


def _xml_root(head: str) -> str | None:
    """Local name of the first element, skipping the prolog, comments and a DOCTYPE."""
    rest = head
    while True:
        rest = rest.lstrip()
        if rest.startswith("<?"):
            end, width = rest.find("?>"), 2
        elif rest.startswith("<!--"):
            end, width = rest.find("-->"), 3
        elif rest.startswith("<!"):
            bracket, close = rest.find("["), rest.find(">")
            if 0 <= bracket < close:
                end, width = rest.find("]>"), 2
            else:
                end, width = close, 1
        else:
            match = _ROOT_NAME.match(rest)
            return match.group(2) if match else None
        if end < 0:
            return None
        rest = rest[end + width:]


def _xml_format(root: str | None) -> str | None:
    if root in ("testsuites", "testsuite"):
        return "junit"
    if root == "coverage":
        return "cobertura"
    if root == "bom":
        raise ArtifactRefused(
            UNPROCESSABLE, "CycloneDX XML is not accepted; export the BOM as CycloneDX JSON"
        )
    return None


def detect_document(document: Any) -> str | None:
    """The format of a parsed JSON document from its keys, or None."""
    if isinstance(document, list):
        if document and all(_looks_like_osv(item) for item in document[:10]):
            return "osv"
        return None
    if not isinstance(document, dict):
        return None
    schema = document.get("$schema")
    if isinstance(schema, str) and "sarif" in schema.lower():
        return "sarif"
    if "runs" in document and "version" in document:
        return "sarif"
    if document.get("bomFormat") == "CycloneDX":
        return "cyclonedx"
    if "spdxVersion" in document:
        return "spdx"
    if "auditReportVersion" in document or {"advisories", "actions"} <= document.keys():
        return "npm-audit"
    if isinstance(document.get("dependencies"), list) and "fixes" in document:
        return "pip-audit"
    if isinstance(document.get("vulns"), list) or _looks_like_osv(document):
        return "osv"
    meta = document.get("meta")
    has_coverage = "files" in document or "totals" in document
    if isinstance(meta, dict) and "format" in meta and has_coverage:
        return "coverage-json"
    if "status" in document and _BUILD_KEYS & document.keys():
        return "build"
    return None


def _looks_like_osv(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and isinstance(item.get("id"), str)
        and "modified" in item
        and any(key in item for key in ("affected", "aliases", "schema_version", "withdrawn"))
    )
