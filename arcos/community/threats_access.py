"""Who reads threat intelligence: the community rule (arcos/community/sharing.py), plus the
named recipients of AMBER and RED items — the TLP levels whose audience the sharer names."""

from __future__ import annotations

from collections.abc import Iterable

from tortoise.expressions import Q, Subquery

from arcos.auth.caller import Caller
from arcos.auth.scopes import Scope
from arcos.community.sharing import Visibility, may_read, readable
from arcos.community.stix_threats import threat_uid_of
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


async def visible_ids(caller: Caller, stix_ids: Iterable[str]) -> set[str]:
    """Those of `stix_ids` naming an object (stored, or derived from a threat) the caller
    may read; every other id — unreadable or unknown — is not visible."""
    wanted = set(stix_ids)
    if not wanted:
        return set()
    stored = await StixObject.filter(readable_intel(caller), stix_id__in=list(wanted)) \
        .values_list("stix_id", flat=True)
    found = set(stored)
    uids = {uid: stix_id for stix_id in wanted - found if (uid := threat_uid_of(stix_id))}
    if uids:
        readable_uids = await Threat.filter(readable_intel(caller), uid__in=list(uids)) \
            .values_list("uid", flat=True)
        found.update(uids[str(uid)] for uid in readable_uids)
    return found


async def readable_imports(caller: Caller) -> int:
    """STIX imports at least one of whose objects the caller may read (communityStats)."""
    return len(set(await StixObject.filter(readable_intel(caller)).distinct()
                   .values_list("import_record_id", flat=True)))
