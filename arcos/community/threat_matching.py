"""Which projects a threat affects: those whose latest SBOM lists one of its affected
components (same package, version in range). A purl matches on its package key, a CPE on
its product name (SBOMs rarely carry CPEs).

Bounded and indexed: a new SBOM finds candidate threats through the component index
(ThreatComponent, by key) rather than reading every threat; rows are compared with
components through a dictionary by key, and the comparing runs in a worker thread."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from tortoise.expressions import Q
from tortoise.functions import Max

from arcos.auth.caller import Caller
from arcos.community.threats_access import readable_intel
from arcos.community.threats_components import AffectedComponent, parse_component
from arcos.community.threats_models import Threat, ThreatComponent
from arcos.evidence.models import Evidence, Project
from arcos.intake.models import SbomComponent

#: Threats checked against one new SBOM (the newest first), and SBOM rows read per threat.
MAX_THREATS_PER_SBOM = 2_000
MAX_ROWS = 50_000
#: Keys per `IN (…)` (well under SQLite's variable limit).
_IN_CHUNK = 500


@dataclass(frozen=True)
class Match:
    project: str
    package: str
    component: str
    version: str | None


def components_of(threat: Threat) -> list[AffectedComponent]:
    """The threat's stored components (checked when it was shared)."""
    return [parse_component(c["package"], c["versions"]) for c in threat.affected_components]


def _by_key(components: Sequence[AffectedComponent]
            ) -> dict[tuple[bool, str], list[AffectedComponent]]:
    """Components by (is a CPE, key), so each SBOM row is compared only with those of its
    package instead of with every component."""
    index: dict[tuple[bool, str], list[AffectedComponent]] = {}
    for component in components:
        index.setdefault((component.is_cpe, component.key), []).append(component)
    return index


def _hits(rows: Sequence[SbomComponent], components: Sequence[AffectedComponent]
          ) -> list[tuple[SbomComponent, AffectedComponent]]:
    """(row, component) pairs that match: one dictionary lookup per row and kind of key."""
    index = _by_key(components)
    return [(row, component) for row in rows
            for key in ((False, row.package), (True, row.name_key))
            for component in index.get(key, ()) if component.versions.contains(row.version)]


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
    current = [row for row in rows if latest.get(row.project_id) == row.evidence_uid]
    hits = await asyncio.to_thread(_hits, current, components)
    slugs = dict(await Project.filter(id__in=[row.project_id for row, _ in hits])
                 .values_list("id", "slug"))
    return sorted({Match(slugs[row.project_id], c.package, row.name, row.version)
                   for row, c in hits}, key=lambda m: (m.project, m.package, m.component))


async def threats_matching_sbom(evidence_uid: uuid.UUID, caller: Caller
                                ) -> list[tuple[Threat, list[Match]]]:
    """The threats `caller` may read that a stored SBOM's components match, with how. Only
    threats naming one of the SBOM's package keys are read (the component index), at most
    MAX_THREATS_PER_SBOM of them, newest first."""
    rows = await SbomComponent.filter(evidence_uid=evidence_uid).limit(MAX_ROWS)
    if not rows:
        return []
    slug = await Project.filter(id=rows[0].project_id).values_list("slug", flat=True)
    keys = sorted({row.package for row in rows if row.package} | {row.name_key for row in rows})
    candidates: set[int] = set()
    for start in range(0, len(keys), _IN_CHUNK):
        candidates.update(await ThreatComponent.filter(key__in=keys[start:start + _IN_CHUNK])
                          .values_list("threat_id", flat=True))
    if not candidates:
        return []
    threats = await Threat.filter(readable_intel(caller), id__in=sorted(candidates)) \
        .order_by("-id").limit(MAX_THREATS_PER_SBOM)
    return await asyncio.to_thread(_found, threats, rows, slug[0])


def _found(threats: Sequence[Threat], rows: Sequence[SbomComponent], slug: str
           ) -> list[tuple[Threat, list[Match]]]:
    found = []
    for threat in threats:
        matches = sorted({Match(slug, c.package, row.name, row.version)
                          for row, c in _hits(rows, components_of(threat))},
                         key=lambda m: (m.package, m.component))
        if matches:
            found.append((threat, matches))
    return found
