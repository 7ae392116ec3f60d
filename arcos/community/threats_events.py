"""What the threat area publishes: each new or edited threat, so `threatMatched`
subscribers can check it against their project's SBOM (with their own clearance) when it
commits — an edit may change its components, its clearance or its severity."""

from __future__ import annotations

from arcos.community.threats_models import Threat
from arcos.store.outbox import Message

THREAT_SHARED = "community.threat_shared"
TOPICS: tuple[str, ...] = (THREAT_SHARED,)
#: The `cause` of a threatMatched event a threat's message raises.
SHARE = "threat"
EDIT = "edit"


def threat_shared_message(threat: Threat, edited: bool = False) -> Message:
    """Only the uid (and whether it was an edit) travels: each subscriber loads the threat
    and checks it may read it."""
    event = {"uid": str(threat.uid), "cause": EDIT if edited else SHARE}
    return Message(topic=THREAT_SHARED, event=event, key=str(threat.uid))
