"""A shared threat as STIX 2.1 objects, derived on export (never stored twice): its domain
object, an indicator per pattern (`indicates` it), a course-of-action per mitigation
(`mitigates` it), each marked with its TLP 2.0 marking. Ids are stable: the domain
object's is `<type>--<threat uid>`, the others are UUIDv5 names under that uid."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from arcos.community.threats_models import Threat, ThreatKind
from arcos.community.threats_tlp import MARKING_IDS, Tlp


def stix_time(moment: datetime) -> str:
    """A STIX timestamp: UTC, millisecond precision, `Z`."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def next_modified(previous: datetime, now: datetime) -> datetime:
    """The `updated_at` of an edit: `now`, unless that reads (at STIX's millisecond
    precision) no later than `previous` — a new version must be strictly newer, or
    consumers keeping the newest `modified` would ignore it."""
    floor = previous.replace(microsecond=previous.microsecond // 1000 * 1000)
    return max(now, floor + timedelta(milliseconds=1))


def threat_objects(threat: Threat) -> list[dict[str, Any]]:
    """The STIX objects `threat` exports as."""
    created, modified = stix_time(threat.created_at), stix_time(threat.updated_at)
    common = {"spec_version": "2.1", "created": created, "modified": modified,
              "object_marking_refs": [MARKING_IDS[Tlp(threat.tlp)]]}
    main_id = threat.stix_id
    main: dict[str, Any] = {
        "type": threat.kind.value, "id": main_id, **common, "name": threat.title,
        "description": threat.description, "x_arcos_severity": threat.severity.value,
        "x_arcos_affected_components": threat.affected_components,
    }
    if threat.kind is ThreatKind.MALWARE:
        main["is_family"] = False
    objects = [main]

    def derived(kind: str, name: str) -> str:
        return f"{kind}--{uuid.uuid5(threat.uid, name)}"

    def relationship(index: str, verb: str, source: str) -> dict[str, Any]:
        return {"type": "relationship", "id": derived("relationship", f"{verb}/{index}"),
                **common, "relationship_type": verb, "source_ref": source,
                "target_ref": main_id}

    for index, pattern in enumerate(threat.indicators):
        indicator = derived("indicator", f"indicator/{index}")
        objects.append({"type": "indicator", "id": indicator, **common,
                        "name": f"{threat.title} ({index + 1})", "pattern": pattern,
                        "pattern_type": "stix", "valid_from": created})
        objects.append(relationship(str(index), "indicates", indicator))
    for index, mitigation in enumerate(threat.mitigations):
        action = derived("course-of-action", f"mitigation/{index}")
        objects.append({"type": "course-of-action", "id": action, **common,
                        "name": mitigation[:200], "description": mitigation})
        objects.append(relationship(str(index), "mitigates", action))
    return objects
