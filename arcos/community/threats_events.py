"""What the threat area publishes: each new threat, so `threatMatched` subscribers can
check it against their project's SBOM (with their own clearance) when it commits."""

from __future__ import annotations

from arcos.community.threats_models import Threat
from arcos.store.outbox import Message

THREAT_SHARED = "community.threat_shared"
TOPICS: tuple[str, ...] = (THREAT_SHARED,)


def threat_shared_message(threat: Threat) -> Message:
    """Only the uid travels: each subscriber loads the threat and checks it may read it."""
    return Message(topic=THREAT_SHARED, event={"uid": str(threat.uid)}, key=str(threat.uid))
