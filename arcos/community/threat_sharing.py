"""shareThreat and updateThreat: a threat's fields checked (threats_input.py), then stored
with its named recipients and its component index in one unit of work, so readers and
matching never see one without the other."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from arcos.auth.caller import Caller
from arcos.community.sharing import may_change
from arcos.community.stix_threats import next_modified
from arcos.community.threats_access import readable_intel
from arcos.community.threats_components import AffectedComponent
from arcos.community.threats_events import threat_shared_message
from arcos.community.threats_input import (
    CheckedThreat,
    ThreatFields,
    check_threat,
    recipient_problems,
)
from arcos.community.threats_models import Threat, ThreatComponent, ThreatKind, ThreatRecipient
from arcos.community.threats_tlp import Tlp
from arcos.problems import ProblemCode, Refused
from arcos.store.unit_of_work import UnitOfWork
from arcos.store.write_context import WriteContext

WHAT = "threat"


@dataclass(frozen=True)
class ThreatDraft:
    """A new threat: its kind (the STIX type its id carries, so it never changes), whether
    to share it anonymised, and its fields (title, severity and tlp required)."""

    kind: ThreatKind
    fields: ThreatFields
    anonymize: bool = False


async def _set_recipients(threat: Threat, names: list[str], unit: UnitOfWork) -> None:
    """Replace the principals the threat is shared with by name."""
    await ThreatRecipient.filter(grant=threat.grant).using_db(unit.connection).delete()
    if names:
        await ThreatRecipient.bulk_create(
            [ThreatRecipient(grant=threat.grant, principal=name) for name in names],
            using_db=unit.connection)


async def _index_components(threat: Threat, components: Sequence[AffectedComponent],
                            unit: UnitOfWork) -> None:
    """Replace the threat's rows in the component index new SBOMs are matched through."""
    await ThreatComponent.filter(threat_id=threat.id).using_db(unit.connection).delete()
    keys = sorted({c.key for c in components if c.key})
    if keys:
        await ThreatComponent.bulk_create(
            [ThreatComponent(threat_id=threat.id, key=key) for key in keys],
            using_db=unit.connection)


async def _store_links(threat: Threat, checked: CheckedThreat, unit: UnitOfWork) -> None:
    """What hangs off the row: recipients and component index, where the fields set them."""
    if checked.recipients is not None:
        await _set_recipients(threat, checked.recipients, unit)
    if checked.components is not None:
        await _index_components(threat, checked.components, unit)


async def share_threat(draft: ThreatDraft, caller: Caller, write: WriteContext) -> Threat:
    """Store a threat; raises Refused naming every problem (nothing is written then)."""
    fields = draft.fields
    if fields.title is None or fields.severity is None or fields.tlp is None:
        raise Refused.one(None, "title, severity and tlp are required", ProblemCode.REQUIRED)
    checked = await check_threat(fields, fields.tlp, draft.anonymize, caller.name,
                                 write.settings)

    async def work(unit: UnitOfWork) -> Threat:
        uid = uuid.uuid4()
        threat = await Threat.create(
            uid=uid, grant=uid, stix_id=f"{draft.kind.value}--{uid}", owner=caller.name,
            anonymized=draft.anonymize, kind=draft.kind, created_at=unit.now,
            updated_at=unit.now, using_db=unit.connection,
            **{"description": "", **checked.columns})
        await _store_links(threat, checked, unit)
        unit.publish(await threat_shared_message(threat))
        return threat

    return await write.writer.run(work)


async def _changeable(uid: uuid.UUID, caller: Caller, unit: UnitOfWork | None) -> Threat:
    """The threat when `caller` may read it (named recipients too) and change it (its owner,
    an admin); locked inside a unit. One the caller may not read is answered as missing."""
    query = Threat.filter(readable_intel(caller), uid=uid)
    if unit is not None:
        query = query.using_db(unit.connection).select_for_update()
    threat = await query.first()
    if threat is None:
        raise Refused.one("id", f"no {WHAT} with id {uid} that you may read",
                          ProblemCode.NOT_FOUND)
    if not may_change(threat, caller):
        raise Refused.one("id", f"only its owner or an admin may change this {WHAT}",
                          ProblemCode.INVALID)
    return threat


async def update_threat(uid: uuid.UUID, fields: ThreatFields, caller: Caller,
                        write: WriteContext) -> Threat:
    """Change the fields given (an anonymised threat's new text is scrubbed too). Checking
    and scrubbing are CPU work (ANTLR, regexes), so they run before the unit of work, on the
    row as read then (owner and anonymised never change); the unit locks the row again.
    The edit bumps `updated_at`, which exports carry as STIX `modified`: a newer version."""
    seen = await _changeable(uid, caller, None)
    level = Tlp(seen.tlp) if fields.tlp is None else fields.tlp
    checked = await check_threat(fields, level, seen.anonymized, seen.owner, write.settings)

    async def work(unit: UnitOfWork) -> Threat:
        threat = await _changeable(uid, caller, unit)
        if fields.tlp is None and Tlp(threat.tlp) is not level:  # changed meanwhile
            problems = recipient_problems(Tlp(threat.tlp), fields.recipients or [])
            if problems:
                raise Refused(problems)
        threat.update_from_dict({**checked.columns,
                                 "updated_at": next_modified(threat.updated_at, unit.now)})
        await threat.save(using_db=unit.connection)
        await _store_links(threat, checked, unit)
        unit.publish(await threat_shared_message(threat, edited=True))
        return threat

    return await write.writer.run(work)
