"""Which projects a threat affects: those whose latest SBOM lists one of its affected
components (same package, version in range). A purl matches on its package key, a CPE on
its product name (SBOMs rarely carry CPEs)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from tortoise.expressions import Q
from tortoise.functions import Max

from arcos.auth.caller import Caller
from arcos.community.threats_access import readable_intel
from arcos.community.threats_components import AffectedComponent, parse_component
from arcos.community.threats_models import Threat
from arcos.evidence.models import Evidence, Project
from arcos.intake.models import SbomComponent

#: Threats checked against one new SBOM (the newest first), and SBOM rows read per threat.
MAX_THREATS_PER_SBOM = 2_000
MAX_ROWS = 50_000


@dataclass(frozen=True)
class Match:
    project: str
    package: str
    component: str
    version: str | None


def components_of(threat: Threat) -> list[AffectedComponent]:
    """The threat's stored components (checked when it was shared)."""
    return [parse_component(c["package"], c["versions"]) for c in threat.affected_components]


def _matches(component: AffectedComponent, row: SbomComponent) -> bool:
    key = row.name_key if component.is_cpe else row.package
    return key == component.key and component.versions.contains(row.version)


async def latest_sboms(project_ids: Sequence[int]) -> dict[int, uuid.UUID]:
    """Each project's newest SBOM evidence uid."""
    if not project_ids:
        return {}
    newest = await Evidence.filter(project_id__in=list(project_ids), type="sbom") \
        .annotate(newest=Max("seq")).group_by("project_id").values_list("project_id", "newest")
    rows = await Evidence.filter(seq__in=[seq for _, seq in newest]).values_list(
        "project_id", "uid")
    return {project_id: uid for project_id, uid in rows}


async def affected_projects(threat: Threat) -> list[Match]:
    """Projects whose latest SBOM holds a component `threat` affects, by project slug."""
    components = components_of(threat)
    if not components:
        return []
    keys = Q(package__in=[c.key for c in components if not c.is_cpe]) | Q(
        name_key__in=[c.key for c in components if c.is_cpe])
    rows = await SbomComponent.filter(keys).order_by("id").limit(MAX_ROWS)
    latest = await latest_sboms(sorted({row.project_id for row in rows}))
    hits = [(row, c) for row in rows if latest.get(row.project_id) == row.evidence_uid
            for c in components if _matches(c, row)]
    slugs = dict(await Project.filter(id__in=[row.project_id for row, _ in hits])
                 .values_list("id", "slug"))
    return sorted({Match(slugs[row.project_id], c.package, row.name, row.version)
                   for row, c in hits}, key=lambda m: (m.project, m.package, m.component))


async def threats_matching_sbom(evidence_uid: uuid.UUID, caller: Caller
                                ) -> list[tuple[Threat, list[Match]]]:
    """The threats `caller` may read that a stored SBOM's components match, with how."""
    rows = await SbomComponent.filter(evidence_uid=evidence_uid).limit(MAX_ROWS)
    if not rows:
        return []
    slug = await Project.filter(id=rows[0].project_id).values_list("slug", flat=True)
    threats = await Threat.filter(readable_intel(caller)).order_by("-id").limit(
        MAX_THREATS_PER_SBOM)
    found = []
    for threat in threats:
        matches = sorted({Match(slug[0], c.package, row.name, row.version)
                          for c in components_of(threat) for row in rows if _matches(c, row)},
                         key=lambda m: (m.package, m.component))
        if matches:
            found.append((threat, matches))
    return found
