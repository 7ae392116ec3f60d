"""The components of a project's SBOM, kept so other domains can ask "which projects ship
package P at a version in range R" (the community's threat matching) without re-reading
the artifact. Only name, version and purl are kept, plus a normalised package key."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from packageurl import PackageURL

from arcos.formats.results import Component, Sbom
from arcos.intake.models import SbomComponent

#: Components kept per SBOM; a larger SBOM keeps its first ones (and says so in warnings).
MAX_SBOM_COMPONENTS = 20_000
_MAX_NAME = 255


def package_key(purl: str | None) -> str | None:
    """`type/namespace/name` of a purl, lower-cased (pypi names normalised the way
    packageurl does), so `pkg:pypi/Foo_Bar@1.0` and `pkg:pypi/foo-bar` are one package;
    None when `purl` is absent or no purl."""
    if not purl:
        return None
    try:
        parsed = PackageURL.from_string(purl)
    except ValueError:
        return None
    namespace = f"{parsed.namespace}/" if parsed.namespace else ""
    return f"{parsed.type}/{namespace}{parsed.name}".lower()[:512]


def version_of(component: Component) -> str | None:
    """The component's version, or the one its purl names."""
    if component.version:
        return component.version[:_MAX_NAME]
    try:
        parsed = PackageURL.from_string(component.purl) if component.purl else None
    except ValueError:
        return None
    return parsed.version[:_MAX_NAME] if parsed and parsed.version else None


def kept_components(sbom: Sbom) -> Sbom:
    """The SBOM with the distinct components its rows are made of, at most
    MAX_SBOM_COMPONENTS; when it had more, a warning says how many were not kept."""
    seen: set[tuple[str, str | None, str | None]] = set()
    kept: list[Component] = []
    for component in sbom.components:
        identity = (component.name, component.version, component.purl)
        if identity not in seen:
            seen.add(identity)
            kept.append(Component(component.name, component.version, component.purl))
    warnings = sbom.warnings
    if len(kept) > MAX_SBOM_COMPONENTS:
        warnings += (f"kept the first {MAX_SBOM_COMPONENTS} of {len(kept)} distinct "
                     "components for threat matching",)
    return dataclasses.replace(sbom, components=tuple(kept[:MAX_SBOM_COMPONENTS]),
                               warnings=warnings)


async def record_components(
    sbom: Sbom, project_id: int, evidence_uid: uuid.UUID, connection: Any
) -> int:
    """Store the SBOM's components as rows of its evidence, in the caller's transaction."""
    rows = [
        SbomComponent(
            project_id=project_id, evidence_uid=evidence_uid, name=component.name[:_MAX_NAME],
            name_key=component.name[:_MAX_NAME].lower(), version=version_of(component),
            purl=component.purl, package=package_key(component.purl),
        )
        for component in sbom.components
    ]
    if rows:
        await SbomComponent.bulk_create(rows, batch_size=500, using_db=connection)
    return len(rows)
