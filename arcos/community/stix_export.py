"""A STIX 2.1 bundle of what one reader may see: the official TLP 2.0 marking definitions,
the threats shared through ARCOS (as derived objects) and the objects imported — and only
those relationships and sightings both of whose ends the reader may see, so an object
above the reader's clearance never appears, not even as a relationship's end."""

from __future__ import annotations

import uuid
from typing import Any

from arcos.auth.caller import Caller
from arcos.community.stix_refs import references, without_hidden
from arcos.community.stix_threats import threat_objects
from arcos.community.threats_access import links_visible, readable_intel
from arcos.community.threats_models import StixObject, Threat
from arcos.community.threats_tlp import Tlp, marking_definition

MAX_EXPORT_OBJECTS = 5_000
#: Ids per `IN (…)` when looking references up (well under SQLite's variable limit).
_IN_CHUNK = 500


async def export_bundle(caller: Caller, limit: int = MAX_EXPORT_OBJECTS) -> dict[str, Any]:
    """The reader's bundle: at most `limit` stored objects and `limit` threats, oldest first."""
    threats = await Threat.filter(readable_intel(caller)).order_by("id").limit(limit)
    stored = await StixObject.filter(readable_intel(caller), links_visible(caller)) \
        .order_by("id").limit(limit)
    derived = [obj for threat in threats for obj in threat_objects(threat)]
    objects = derived + [row.body for row in stored]
    hidden = await _hidden(references(objects), caller)
    return {
        "type": "bundle",
        "id": f"bundle--{uuid.uuid4()}",
        "objects": [marking_definition(level) for level in Tlp]
        + without_hidden(objects, hidden),
    }


async def _hidden(refs: set[str], caller: Caller) -> set[str]:
    """Of `refs`, the ids of stored objects and shared threats the caller may not read."""
    hidden: set[str] = set()
    ids = sorted(refs)
    for start in range(0, len(ids), _IN_CHUNK):
        chunk = ids[start:start + _IN_CHUNK]
        held = set(await StixObject.filter(stix_id__in=chunk).values_list("stix_id", flat=True))
        held |= set(await Threat.filter(stix_id__in=chunk).values_list("stix_id", flat=True))
        if not held:
            continue
        seen = set(await StixObject.filter(readable_intel(caller), stix_id__in=chunk)
                   .values_list("stix_id", flat=True))
        seen |= set(await Threat.filter(readable_intel(caller), stix_id__in=chunk)
                    .values_list("stix_id", flat=True))
        hidden |= held - seen
    return hidden
