"""A STIX 2.1 bundle of what one reader may see: the official TLP 2.0 marking definitions,
the threats shared through ARCOS (as derived objects) and the objects imported — and only
those relationships and sightings both of whose ends the reader may see, so an object
above the reader's clearance never appears, not even as a relationship's end.

Bounded twice: at most `limit` threats and `limit` stored objects, and stored objects only
while their JSON fits a byte budget (bodies may be megabytes each). Objects are added
oldest first, so a bundle cut short by either bound is a prefix: ask for a smaller
`first` and import the rest from newer exports. A bundle says nothing about being cut
(STIX has no property for it and ARCOS invents none)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from arcos.auth.caller import Caller
from arcos.community.stix_refs import references, without_hidden
from arcos.community.stix_threats import threat_objects
from arcos.community.threats_access import hidden_refs, readable_intel, readable_stix_objects
from arcos.community.threats_models import StixObject, Threat
from arcos.community.threats_tlp import Tlp, marking_definition

MAX_EXPORT_OBJECTS = 5_000
#: Bytes of stored objects' JSON one export carries at most.
MAX_EXPORT_BYTES = 16 * 1024 * 1024
#: Stored objects read per query, so a budget reached early stops the reading too.
_CHUNK = 200


async def export_bundle(caller: Caller, limit: int = MAX_EXPORT_OBJECTS,
                        budget: int = MAX_EXPORT_BYTES) -> dict[str, Any]:
    """The reader's bundle: at most `limit` stored objects (and `budget` bytes of them)
    and `limit` threats, oldest first; an object several importers hold is sent once."""
    threats = await Threat.filter(readable_intel(caller)).order_by("id").limit(limit)
    derived = [obj for threat in threats for obj in threat_objects(threat)]
    objects = derived + await _stored(caller, limit, budget)
    hidden = await hidden_refs(references(objects), caller)
    return {
        "type": "bundle",
        "id": f"bundle--{uuid.uuid4()}",
        "objects": [marking_definition(level) for level in Tlp]
        + without_hidden(objects, hidden),
    }


async def _stored(caller: Caller, limit: int, budget: int) -> list[dict[str, Any]]:
    """Readable stored bodies, oldest first, each (id, modified) once, within the bounds."""
    query = StixObject.filter(readable_stix_objects(caller))
    bodies: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    spent, after = 0, 0
    while len(bodies) < limit:
        rows = await query.filter(id__gt=after).order_by("id").limit(_CHUNK) \
            .values_list("id", "stix_id", "modified", "body")
        if not rows:
            break
        for row_id, stix_id, modified, body in rows:
            after = row_id
            if (stix_id, modified) in seen:
                continue
            spent += len(json.dumps(body, ensure_ascii=False))
            if spent > budget:
                return bodies
            seen.add((stix_id, modified))
            bodies.append(body)
            if len(bodies) == limit:
                break
    return bodies
