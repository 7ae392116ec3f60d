"""Scanner advisories to SCA findings: records whose ids/aliases overlap are one vulnerability
with a canonical id (CVE, GHSA, other), fingerprinted by purl-without-qualifiers + that id."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from packageurl import PackageURL

from arcos.formats import severity
from arcos.formats.errors import ParseWarning, capped
from arcos.formats.results import Finding, Severity, Tool, VulnerabilityReport

# OSV ecosystem names → purl types (the common ones; others fall back to "generic")
_PURL_TYPES = {
    "pypi": "pypi", "npm": "npm", "maven": "maven", "go": "golang", "crates.io": "cargo",
    "rubygems": "gem", "nuget": "nuget", "packagist": "composer", "pub": "pub",
    "hex": "hex", "swifturl": "swift", "debian": "deb", "alpine": "apk",
}


@dataclass(frozen=True, slots=True)
class Advisory:
    """One scanner record about one component, before alias merging."""

    tool: str
    vulnerability_id: str
    aliases: tuple[str, ...]
    severity: Severity
    score: float | None
    message: str
    component: str | None
    version: str | None
    purl: str | None
    cwes: tuple[str, ...] = ()
    fixed_versions: tuple[str, ...] = ()
    suppressed: bool = False


def normalise_id(identifier: str) -> str:
    """Canonical spelling: CVE-… upper case, GHSA-xxxx-… lower case after the prefix."""
    identifier = identifier.strip()
    upper = identifier.upper()
    if upper.startswith("CVE-"):
        return upper
    if upper.startswith("GHSA-"):
        return "GHSA-" + identifier[5:].lower()
    return identifier


def canonical_id(identifiers: list[str]) -> str:
    """CVE first, then GHSA, then the first other id (in the order given)."""
    for prefix in ("CVE-", "GHSA-"):
        matching = sorted(item for item in identifiers if item.startswith(prefix))
        if matching:
            return matching[0]
    return identifiers[0]


def purl_for(ecosystem: str | None, name: str | None, version: str | None) -> str | None:
    """A purl for a package named by OSV ecosystem + name (+ version), when the ecosystem is
    known; `None` otherwise."""
    if not ecosystem or not name:
        return None
    purl_type = _PURL_TYPES.get(ecosystem.split(":", 1)[0].strip().lower())
    if purl_type is None:
        return None
    namespace = None
    if purl_type == "maven" and ":" in name:
        namespace, name = name.split(":", 1)
    elif purl_type == "npm" and name.startswith("@") and "/" in name:
        namespace, name = name.split("/", 1)
    elif purl_type == "golang" and "/" in name:
        namespace, name = name.rsplit("/", 1)
    try:
        purl = PackageURL(type=purl_type, namespace=namespace, name=name, version=version)
    except ValueError:
        return None
    return purl.to_string()


def component_key(purl: str | None, name: str | None, version: str | None) -> str:
    """Identity of a component: the normalised purl without qualifiers or subpath, else
    name@version."""
    if purl:
        try:
            parsed = PackageURL.from_string(purl.strip())
        except ValueError:
            return purl.strip().split("?", 1)[0].split("#", 1)[0].lower()
        return PackageURL(
            type=parsed.type, namespace=parsed.namespace, name=parsed.name, version=parsed.version
        ).to_string()
    return f"{(name or '').strip().lower()}@{(version or '').strip()}"


def fingerprint(key: str, vulnerability_id: str) -> str:
    return hashlib.sha256(f"{key}\n{vulnerability_id}".encode(errors="surrogatepass")).hexdigest()


def vulnerability_report(
    format: str,
    tool: Tool | None,
    advisories: list[Advisory],
    warnings: list[ParseWarning],
    incomplete: bool = False,
) -> VulnerabilityReport:
    """What every vulnerability parser returns: its advisories merged (one finding per
    component and vulnerability) and counted, its warnings capped."""
    findings = merge(advisories)
    return VulnerabilityReport(
        format=format,
        tool=tool,
        findings=tuple(findings),
        vulnerable_components=count_vulnerable_components(findings),
        warnings=capped(warnings),
        incomplete=incomplete,
    )


def merge(advisories: list[Advisory]) -> list[Finding]:
    """One finding per component and vulnerability: advisories about the same component whose
    {id} | aliases sets intersect are merged (transitively)."""
    clusters: dict[str, list[tuple[set[str], list[Advisory]]]] = {}
    for advisory in advisories:
        key = component_key(advisory.purl, advisory.component, advisory.version)
        ids = {normalise_id(item) for item in (advisory.vulnerability_id, *advisory.aliases)}
        ids.discard("")
        groups = clusters.setdefault(key, [])
        overlapping = [group for group in groups if group[0] & ids]
        merged_ids, members = set(ids), [advisory]
        for group in overlapping:
            groups.remove(group)
            merged_ids |= group[0]
            members = group[1] + members
        groups.append((merged_ids, members))
    findings = []
    for key, groups in clusters.items():
        for ids, members in groups:
            findings.append(_finding(key, ids, members))
    return findings


def _finding(key: str, ids: set[str], members: list[Advisory]) -> Finding:
    ordered_ids = list(dict.fromkeys(
        normalise_id(item)
        for member in members
        for item in (member.vulnerability_id, *member.aliases)
        if item.strip()
    ))
    canonical = canonical_id(ordered_ids) if ordered_ids else "unknown"
    first = members[0]
    scores = [member.score for member in members if member.score is not None]
    return Finding(
        tool=first.tool,
        rule_id=canonical,
        severity=severity.worst([member.severity for member in members]),
        message=next((member.message for member in members if member.message), canonical),
        path=None,
        line=None,
        fingerprint=fingerprint(key, canonical),
        kind="sca",
        cwes=_union(member.cwes for member in members),
        suppressed=all(member.suppressed for member in members),
        component=first.component,
        version=first.version,
        purl=next((member.purl for member in members if member.purl), None),
        vulnerability_id=canonical,
        aliases=tuple(sorted(ids - {canonical})),
        fixed_versions=_union(member.fixed_versions for member in members),
        score=max(scores) if scores else None,
    )


def _union(groups: Iterable[tuple[str, ...]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item for group in groups for item in group))


def count_vulnerable_components(findings: list[Finding]) -> int:
    """Distinct components that carry at least one unsuppressed finding."""
    return len({
        component_key(finding.purl, finding.component, finding.version)
        for finding in findings
        if not finding.suppressed and (finding.purl or finding.component)
    })
