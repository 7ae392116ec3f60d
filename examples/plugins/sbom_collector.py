"""SBOM collector (collector plugin).

Input: {"sbom": <a CycloneDX JSON document>, "project": "github.com/acme/app"}
Returns evidence drafts for the host to write (with evidence.write): one "sbom_summary"
with component counts by type and the licences in use, and one "license_finding" per
component whose licence is on the input's "deny" list (default: AGPL-3.0-only, SSPL-1.0).
"""

DEFAULT_DENY = ("AGPL-3.0-only", "AGPL-3.0-or-later", "SSPL-1.0")


def licences_of(component: dict) -> list:
    found = []
    for entry in component.get("licenses") or []:
        licence = entry.get("license") or {}
        name = licence.get("id") or licence.get("name") or entry.get("expression")
        if name:
            found.append(name)
    return found


def collect(data: dict | None) -> list:
    request = data or {}
    document = request.get("sbom") or {}
    project = request.get("project")
    deny = set(request.get("deny") or DEFAULT_DENY)
    by_type = {}
    licences = set()
    drafts = []
    for component in document.get("components") or []:
        kind = component.get("type", "library")
        by_type[kind] = by_type.get(kind, 0) + 1
        for licence in licences_of(component):
            licences.add(licence)
            if licence in deny:
                drafts.append({
                    "type": "license_finding",
                    "project": project,
                    "data": {"component": component.get("name"),
                             "version": component.get("version"),
                             "purl": component.get("purl"),
                             "license": licence},
                })
    summary = {
        "type": "sbom_summary",
        "project": project,
        "data": {"format": document.get("bomFormat", "CycloneDX"),
                 "specVersion": document.get("specVersion"),
                 "components": sum(by_type.values()),
                 "componentsByType": by_type,
                 "licenses": sorted(licences)},
    }
    return [summary, *drafts]
