"""SPDX 2.x JSON (e.g. `npm sbom --sbom-format spdx`) to an Sbom. Hand-parsed on purpose:
spdx-tools rejects npm's millisecond timestamps. SPDX 2.3 has no vulnerability section."""

from __future__ import annotations

from typing import Any

from arcos.formats import json_document
from arcos.formats.errors import UNPROCESSABLE, ArtifactRefused, ParseWarning, capped
from arcos.formats.json_document import mapping, objects, text
from arcos.formats.results import Component, Sbom, Tool

_NO_LICENSE_INFORMATION = ("", "NOASSERTION")


def parse(content: bytes) -> Sbom:
    return from_document(json_document.load(content, what="SPDX document"))


def from_document(document: Any) -> Sbom:
    """Packages become components; the package(s) the document describes become the subject."""
    spdx = json_document.expect_object(document, "the SPDX document")
    version = text(spdx.get("spdxVersion")) or ""
    if not version.startswith("SPDX-2."):
        raise ArtifactRefused(
            UNPROCESSABLE,
            f"SPDX version {version[:20]!r} is not supported; export SPDX 2.2 or 2.3 JSON",
        )
    warnings: list[ParseWarning] = []
    if version not in ("SPDX-2.2", "SPDX-2.3"):
        warnings.append(f"{version} is untested; parsed as SPDX 2.3")
    packages = objects(json_document.expect_list(spdx.get("packages"), "packages"))
    described = _described(spdx)
    subject: Component | None = None
    components = []
    for package in packages:
        component = _component(package)
        if component is None:
            warnings.append("skipped a package without a name")
        elif text(package.get("SPDXID")) in described and subject is None:
            subject = component
        else:
            components.append(component)
    return Sbom(
        format="spdx",
        spec_version=version.removeprefix("SPDX-"),
        tool=_tool(spdx),
        subject=subject,
        components=tuple(components),
        warnings=capped(warnings),
    )


def _described(spdx: dict[str, Any]) -> set[str]:
    """SPDXIDs the document describes (documentDescribes or DESCRIBES relationships)."""
    described = set(json_document.texts(spdx.get("documentDescribes")))
    document_id = text(spdx.get("SPDXID")) or "SPDXRef-DOCUMENT"
    for relationship in objects(spdx.get("relationships")):
        if (
            text(relationship.get("relationshipType")) == "DESCRIBES"
            and text(relationship.get("spdxElementId")) == document_id
        ):
            target = text(relationship.get("relatedSpdxElement"))
            if target:
                described.add(target)
    return described


def _component(package: dict[str, Any]) -> Component | None:
    name = text(package.get("name"))
    if not name:
        return None
    purl = None
    for reference in objects(package.get("externalRefs")):
        category = (text(reference.get("referenceCategory")) or "").replace("_", "-")
        if category == "PACKAGE-MANAGER" and text(reference.get("referenceType")) == "purl":
            purl = text(reference.get("referenceLocator"))
            break
    licenses = []
    for key in ("licenseConcluded", "licenseDeclared"):
        value = (text(package.get(key)) or "").strip()
        if value.upper() not in _NO_LICENSE_INFORMATION:
            licenses.append(value)
            break
    return Component(
        name=name,
        version=text(package.get("versionInfo")),
        purl=purl,
        licenses=tuple(licenses),
    )


def _tool(spdx: dict[str, Any]) -> Tool | None:
    """The first `Tool: name-version` creator (npm writes `Tool: npm/cli-11.19.1`)."""
    for creator in json_document.texts(mapping(spdx.get("creationInfo")).get("creators")):
        if creator.startswith("Tool:"):
            name, _, version = creator.removeprefix("Tool:").strip().rpartition("-")
            return Tool(name, version) if name else Tool(version, None)
    return None
