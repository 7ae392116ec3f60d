"""Who reads threat intelligence: the community rule (arcos/community/sharing.py), plus the
named recipients of AMBER and RED items — the TLP levels whose audience the sharer names."""

from __future__ import annotations

from tortoise.expressions import Q, Subquery

from arcos.auth.caller import Caller
from arcos.auth.scopes import Scope
from arcos.community.sharing import Visibility, may_read, readable
from arcos.community.threats_models import StixObject, Threat, ThreatRecipient
from arcos.community.threats_tlp import NAMED_RECIPIENTS


def readable_intel(caller: Caller) -> Q:
    """`readable(caller)`, widened to AMBER/RED rows that name the caller as a recipient."""
    base = readable(caller)
    if not caller.authenticated or not caller.may(Scope.COMMUNITY_READ):
        return base
    granted = Subquery(ThreatRecipient.filter(principal=caller.name).values("grant"))
    named = Q(withdrawn=False, hidden=False, visibility=Visibility.PRIVATE,
              tlp__in=list(NAMED_RECIPIENTS), grant__in=granted)
    return Q(base, named, join_type="OR")


async def may_read_intel(item: Threat | StixObject, caller: Caller) -> bool:
    """`readable_intel` for one row in hand."""
    if may_read(item, caller):
        return True
    if (not caller.authenticated or not caller.may(Scope.COMMUNITY_READ) or item.withdrawn
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
    """STIX imports at least one of whose objects the caller may read (communityStats)."""
    return len(set(await StixObject.filter(readable_intel(caller)).distinct()
                   .values_list("import_record_id", flat=True)))


def readable_stix_objects(caller: Caller) -> Q:
    """Stored objects as `stixObjects` lists them for the caller: readable, with every
    relationship end readable too."""
    return Q(readable_intel(caller), links_visible(caller))
