"""What the threat area publishes: each new or edited threat, on one channel per project
whose latest SBOM it meets, so a `threatMatched` subscriber hears only of the threats that
meet its project, with the matches, when the write commits — an edit may change its
components, its clearance or its severity. Each subscriber still loads the threat and
checks that it may read it (its clearance, its named recipients)."""

from __future__ import annotations

from arcos.broker import channel
from arcos.community.threat_matching import affected_projects
from arcos.community.threats_models import Threat
from arcos.store.outbox import Message

THREAT_SHARED = "community.threat_shared"
TOPICS: tuple[str, ...] = (THREAT_SHARED,)
#: The `cause` of a threatMatched event a threat's message raises.
SHARE = "threat"
EDIT = "edit"


def threat_channel(project: str) -> str:
    """The topic carrying the threats that meet `project`'s latest SBOM."""
    return channel(THREAT_SHARED, project=project)


async def threat_shared_message(threat: Threat, edited: bool = False) -> Message:
    """Called in the writer's unit of work, after the threat's rows are written: the
    projects it affects are found here, once for every subscriber, and the event carries
    each one's matches as `[package, component, version]` lists. The outbox keeps only the
    uid and the cause."""
    matches: dict[str, list[list[str | None]]] = {}
    for match in await affected_projects(threat):
        matches.setdefault(match.project, []).append(
            [match.package, match.component, match.version])
    record = {"uid": str(threat.uid), "cause": EDIT if edited else SHARE}
    return Message(topic=THREAT_SHARED, event={**record, "matches": matches},
                   key=str(threat.uid), record=record,
                   channels=tuple(threat_channel(project) for project in matches))
