"""A STIX 2.1 bundle of what one reader may see: the official TLP 2.0 marking definitions,
the threats shared through ARCOS (as derived objects) and the objects imported — and only
those relationships and sightings both of whose ends the reader may see, so an object
above the reader's clearance never appears, not even as a relationship's end."""

from __future__ import annotations

import uuid
from typing import Any

from arcos.auth.caller import Caller
from arcos.community.stix_threats import threat_objects
from arcos.community.threats_access import links_visible, readable_intel
from arcos.community.threats_models import StixObject, Threat
from arcos.community.threats_tlp import Tlp, marking_definition

MAX_EXPORT_OBJECTS = 5_000


async def export_bundle(caller: Caller, limit: int = MAX_EXPORT_OBJECTS) -> dict[str, Any]:
    """The reader's bundle: at most `limit` stored objects and `limit` threats, oldest first."""
    threats = await Threat.filter(readable_intel(caller)).order_by("id").limit(limit)
    stored = await StixObject.filter(readable_intel(caller), links_visible(caller)) \
        .order_by("id").limit(limit)
    derived = [obj for threat in threats for obj in threat_objects(threat)]
    return {
        "type": "bundle",
        "id": f"bundle--{uuid.uuid4()}",
        "objects": [marking_definition(level) for level in Tlp] + derived
        + [row.body for row in stored],
    }
