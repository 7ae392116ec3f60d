"""CycloneDX JSON (1.4 to 1.6; cyclonedx-py, npm sbom, pip-audit, trivy…) to an Sbom (components
and licences) or a VulnerabilityReport (its `vulnerabilities`, VEX states honoured)."""

from __future__ import annotations

from typing import Any

from arcos.formats import json_document, severity
from arcos.formats.errors import UNPROCESSABLE, ArtifactRefused, ParseWarning, capped
from arcos.formats.json_document import mapping, number, objects, text
from arcos.formats.results import Component, Sbom, Severity, Tool, VulnerabilityReport
from arcos.formats.vulnerabilities import Advisory, vulnerability_report

SUPPORTED_VERSIONS = ("1.4", "1.5", "1.6")
SUPPRESSING_STATES = frozenset(
    {"not_affected", "false_positive", "resolved", "resolved_with_pedigree"}
)


def parse_sbom(content: bytes) -> Sbom:
    return sbom_from_document(json_document.load(content, what="CycloneDX BOM"))


def parse_vulnerabilities(content: bytes) -> VulnerabilityReport:
    return vulnerabilities_from_document(json_document.load(content, what="CycloneDX BOM"))


def has_vulnerabilities(document: Any) -> bool:
    return isinstance(document, dict) and bool(objects(document.get("vulnerabilities")))


def _bom(document: Any, warnings: list[ParseWarning]) -> dict[str, Any]:
    bom = json_document.expect_object(document, "the CycloneDX BOM")
    if bom.get("bomFormat") != "CycloneDX":
        raise ArtifactRefused(UNPROCESSABLE, "not a CycloneDX BOM: bomFormat is not 'CycloneDX'")
    version = text(bom.get("specVersion"))
    if version not in SUPPORTED_VERSIONS:
        warnings.append(
            f"CycloneDX specVersion {version!r} is outside the tested 1.4 to 1.6; parsed anyway"
        )
    return bom


def sbom_from_document(document: Any) -> Sbom:
    """Components (nested ones included) with their licences; metadata.component is the subject.
    A `vulnerabilities` array, even an empty one, is also read as the scan the BOM embeds
    (a malformed one is refused like a vulnerability report's); without one there is none."""
    warnings: list[ParseWarning] = []
    bom = _bom(document, warnings)
    metadata = mapping(bom.get("metadata"))
    subject = metadata.get("component")
    components = [
        component
        for raw in _walk(json_document.expect_list(bom.get("components"), "components"))
        if (component := _component(raw)) is not None
    ]
    unnamed = sum(1 for raw in _walk(objects(bom.get("components"))) if not text(raw.get("name")))
    if unnamed:
        warnings.append(f"skipped {unnamed} components without a name")
    return Sbom(
        format="cyclonedx",
        spec_version=text(bom.get("specVersion")),
        tool=_tool(metadata),
        subject=_component(subject) if isinstance(subject, dict) else None,
        components=tuple(components),
        warnings=capped(warnings),
        vulnerabilities=(
            None if bom.get("vulnerabilities") is None else vulnerabilities_from_document(bom)
        ),
    )


def _walk(components: list[Any]) -> list[dict[str, Any]]:
    """Every component object, depth-first, nested `components` included (no recursion)."""
    found: list[dict[str, Any]] = []
    stack = list(reversed(objects(components)))
    while stack:
        component = stack.pop()
        found.append(component)
        stack.extend(reversed(objects(component.get("components"))))
    return found


def _component(raw: dict[str, Any]) -> Component | None:
    name = text(raw.get("name"))
    if not name:
        return None
    group = text(raw.get("group"))
    return Component(
        name=f"{group}/{name}" if group else name,
        version=text(raw.get("version")),
        purl=text(raw.get("purl")),
        licenses=_licenses(raw.get("licenses")),
    )


def _licenses(value: Any) -> tuple[str, ...]:
    found = []
    for choice in objects(value):
        expression = text(choice.get("expression"))
        license_object = mapping(choice.get("license"))
        name = expression or text(license_object.get("id")) or text(license_object.get("name"))
        if name and name.upper() not in ("NOASSERTION", "UNKNOWN"):
            found.append(name)
    return tuple(dict.fromkeys(found))


def _tool(metadata: dict[str, Any]) -> Tool | None:
    """metadata.tools: an array (1.4) or {components, services} (1.5+)."""
    tools = metadata.get("tools")
    candidates = objects(tools) if isinstance(tools, list) else objects(
        mapping(tools).get("components")
    )
    for candidate in candidates:
        name = text(candidate.get("name"))
        owner = text(candidate.get("group")) or text(candidate.get("vendor"))
        if name:
            # npm writes vendor "npm", name "cli": keep the owner unless the name already says it
            if owner and owner.lower() not in name.lower():
                name = f"{owner}/{name}"
            return Tool(name, text(candidate.get("version")))
    return None


def vulnerabilities_from_document(document: Any) -> VulnerabilityReport:
    """One finding per (vulnerability, affected component); not_affected, false_positive and
    resolved* analyses mark findings suppressed and leave their components uncounted."""
    warnings: list[ParseWarning] = []
    bom = _bom(document, warnings)
    by_ref = {
        ref: raw
        for raw in _walk(objects(bom.get("components")))
        if (ref := text(raw.get("bom-ref")))
    }
    subject = mapping(mapping(bom.get("metadata")).get("component"))
    if text(subject.get("bom-ref")):
        by_ref.setdefault(str(text(subject.get("bom-ref"))), subject)
    tool = _tool(mapping(bom.get("metadata")))
    tool_name = tool.name if tool else "cyclonedx"
    advisories: list[Advisory] = []
    raw_vulnerabilities = json_document.expect_list(bom.get("vulnerabilities"), "vulnerabilities")
    for vulnerability in objects(raw_vulnerabilities):
        vulnerability_id = text(vulnerability.get("id"))
        if not vulnerability_id:
            warnings.append("skipped a vulnerability without an id")
            continue
        advisories.extend(
            _advisories(vulnerability, vulnerability_id, tool_name, by_ref, warnings)
        )
    return vulnerability_report("cyclonedx", tool, advisories, warnings)


def _advisories(
    vulnerability: dict[str, Any],
    vulnerability_id: str,
    tool_name: str,
    by_ref: dict[str, dict[str, Any]],
    warnings: list[ParseWarning],
) -> list[Advisory]:
    level, score = _rating(vulnerability)
    state = text(mapping(vulnerability.get("analysis")).get("state"))
    aliases = tuple(
        alias for reference in objects(vulnerability.get("references"))
        if (alias := text(reference.get("id")))
    )
    raw_cwes = vulnerability.get("cwes")
    cwes = tuple(
        f"CWE-{cwe}"
        for item in (raw_cwes if isinstance(raw_cwes, list) else [])
        if (cwe := json_document.integer(item)) is not None and 0 < cwe < 10_000_000
    )
    message = (
        text(vulnerability.get("description")) or text(vulnerability.get("detail")) or ""
    )[:4000]
    refs = [
        ref for affect in objects(vulnerability.get("affects")) if (ref := text(affect.get("ref")))
    ]
    targets: list[dict[str, Any] | None] = []
    for ref in dict.fromkeys(refs):
        component = by_ref.get(ref)
        if component is None:
            warnings.append(f"{vulnerability_id} affects {ref[:80]!r}, which is not in the BOM")
            component = {"name": ref, "bom-ref": ref}
        targets.append(component)
    return [
        Advisory(
            tool=tool_name,
            vulnerability_id=vulnerability_id,
            aliases=aliases,
            severity=level,
            score=score,
            message=message,
            component=_name(target),
            version=text(target.get("version")) if target else None,
            purl=text(target.get("purl")) if target else None,
            cwes=cwes,
            suppressed=state in SUPPRESSING_STATES,
        )
        for target in (targets or [None])
    ]


def _name(component: dict[str, Any] | None) -> str | None:
    if component is None:
        return None
    name, group = text(component.get("name")), text(component.get("group"))
    return f"{group}/{name}" if group and name else name


def _rating(vulnerability: dict[str, Any]) -> tuple[Severity, float | None]:
    """Highest scored rating (score, else its vector) through the bands; else the most severe
    severity word; else unknown."""
    scores = []
    words: list[Severity] = []
    for rating in objects(vulnerability.get("ratings")):
        score = number(rating.get("score"))
        if score is None:
            score = severity.score_vector(_vector(rating))
        if severity.from_score(score) is not None and score is not None:
            scores.append(score)
        word = severity.from_word(text(rating.get("severity")))
        if word is not None:
            words.append(word)
    if scores:
        best = max(scores)
        return severity.from_score(best) or "unknown", best
    return severity.worst(words), None


_VECTOR_PREFIXES = {"CVSSv3": "CVSS:3.0/", "CVSSv31": "CVSS:3.1/", "CVSSv4": "CVSS:4.0/"}


def _vector(rating: dict[str, Any]) -> str | None:
    """The rating's vector with the CVSS prefix its `method` implies (CycloneDX may omit it)."""
    vector = text(rating.get("vector"))
    if not vector:
        return None
    vector = vector.strip().strip("()")
    prefix = _VECTOR_PREFIXES.get(text(rating.get("method")) or "")
    if prefix and not vector.startswith("CVSS:"):
        vector = prefix + vector
    return vector
