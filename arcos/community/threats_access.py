"""Who reads threat intelligence: the community rule (arcos/community/sharing.py), plus the
named recipients of AMBER and RED items — the TLP levels whose audience the sharer names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tortoise.expressions import Q, Subquery

from arcos.auth.caller import Caller
from arcos.community.scopes import COMMUNITY_READ
from arcos.community.sharing import Visibility, may_read, readable
from arcos.community.stix_refs import cut_lenient, references
from arcos.community.threats_models import StixObject, Threat, ThreatRecipient
from arcos.community.threats_tlp import NAMED_RECIPIENTS

#: Ids per `IN (…)` when looking references up (well under SQLite's variable limit).
_IN_CHUNK = 500


def readable_intel(caller: Caller) -> Q:
    """`readable(caller)`, widened to AMBER/RED rows that name the caller as a recipient."""
    base = readable(caller)
    if not caller.authenticated or not caller.may(COMMUNITY_READ):
        return base
    granted = Subquery(ThreatRecipient.filter(principal=caller.name).values("grant"))
    named = Q(withdrawn=False, hidden=False, visibility=Visibility.PRIVATE,
              tlp__in=list(NAMED_RECIPIENTS), grant__in=granted)
    return Q(base, named, join_type="OR")


async def may_read_intel(item: Threat | StixObject, caller: Caller) -> bool:
    """`readable_intel` for one row in hand."""
    if may_read(item, caller):
        return True
    if (not caller.authenticated or not caller.may(COMMUNITY_READ) or item.withdrawn
            or item.hidden or item.tlp not in NAMED_RECIPIENTS):
        return False
    return await ThreatRecipient.exists(grant=item.grant, principal=caller.name)


def links_visible(caller: Caller) -> Q:
    """Stored objects whose relationship ends the caller may all read: a relationship or
    sighting is shown only when each end it names is an object (imported, or a shared
    threat's domain object) the caller may read; other objects have no ends."""
    objects = Subquery(StixObject.filter(readable_intel(caller)).values("stix_id"))
    threats = Subquery(Threat.filter(readable_intel(caller)).values("stix_id"))

    def seen(end: str) -> Q:
        return Q(Q(**{f"{end}__isnull": True}), Q(**{f"{end}__in": objects}),
                 Q(**{f"{end}__in": threats}), join_type="OR")

    return Q(seen("source_ref"), seen("target_ref"))


async def readable_imports(caller: Caller) -> int:
    """STIX imports at least one of whose objects the caller may read as `stixObjects`
    lists them (communityStats): relationships to hidden ends count for nothing."""
    return len(set(await StixObject.filter(readable_stix_objects(caller)).distinct()
                   .values_list("import_record_id", flat=True)))


def readable_stix_objects(caller: Caller) -> Q:
    """Stored objects as `stixObjects` lists them for the caller: readable, with every
    relationship end readable too."""
    return Q(readable_intel(caller), links_visible(caller))


async def hidden_refs(refs: set[str], caller: Caller) -> set[str]:
    """Of `refs`, the ids of stored objects and shared threats the caller may not read
    (an id held by several importers is hidden only when the caller reads none of them).
    Ids ARCOS does not hold are not hidden: there is no clearance to keep."""
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


async def bodies_for(rows: Sequence[StixObject], caller: Caller) -> list[dict[str, Any]]:
    """The bodies of `rows` as the caller may read them: ids above its clearance cut out,
    looked up once for the whole page (not once per object)."""
    hidden = await hidden_refs(references(row.body for row in rows), caller)
    return [cut_lenient(row.body, hidden) for row in rows]
