"""importStixBundle: every object of a checked bundle stored in one unit of work, each
version once per importer — (owner, STIX id, modified) is unique, so importing the same
bundle again adds nothing, and another organisation importing it keeps its own copy. An
object's TLP marking sets who reads it (unmarked: AMBER).

Race-safe: each import first takes its importer's lock (`lock_importer`), so overlapping
imports by one principal queue instead of both inserting the same versions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from arcos.auth.caller import Caller
from arcos.community.stix_bundle import Bundle, check_bundle
from arcos.community.threats_input import recipient_problems
from arcos.community.threats_models import StixImport, StixObject, ThreatRecipient
from arcos.community.threats_tlp import NAMED_RECIPIENTS, Tlp, visibility_of
from arcos.problems import ProblemCode, Refused
from arcos.store.unit_of_work import UnitOfWork
from arcos.store.write_context import WriteContext

#: Ids per `IN (…)` (well under SQLite's variable limit).
_IN_CHUNK = 500


@dataclass(frozen=True)
class Imported:
    record: StixImport
    total: int
    new: int

    @property
    def known(self) -> int:
        """Objects whose version the importer had already stored, left as they are (other
        principals' copies are never counted: they may be private)."""
        return self.total - self.new


async def import_bundle(
    document: object, recipients: list[str], caller: Caller, write: WriteContext
) -> Imported:
    """Check and store a bundle; raises Refused naming what to fix (nothing is written)."""
    bundle = await check_bundle(document)
    if recipients and not any(r.tlp in NAMED_RECIPIENTS for r in bundle.records):
        raise Refused.one("recipients", "none of the bundle's objects is TLP:AMBER or TLP:RED "
                          "(unmarked objects count as AMBER): there is nothing to name "
                          "recipients for", ProblemCode.INVALID)
    problems = recipient_problems(Tlp.AMBER, recipients)
    if problems:
        raise Refused(problems)
    names = sorted({name.strip() for name in recipients} - {caller.name})

    async def work(unit: UnitOfWork) -> Imported:
        return await _store(unit, bundle, names, caller.name)

    return await write.writer.run(work)


async def _store(unit: UnitOfWork, bundle: Bundle, recipients: list[str], owner: str
                 ) -> Imported:
    uid = uuid.uuid4()
    connection = unit.connection
    await lock_importer(owner, unit)
    stored: set[tuple[str, str]] = set()
    ids = sorted({r.stix_id for r in bundle.records})
    for start in range(0, len(ids), _IN_CHUNK):
        stored.update(await StixObject.filter(
            owner=owner, stix_id__in=ids[start:start + _IN_CHUNK]
        ).using_db(connection).values_list("stix_id", "modified"))
    fresh = [r for r in bundle.records if (r.stix_id, r.modified) not in stored]
    record = await StixImport.create(
        uid=uid, owner=owner, bundle_id=bundle.bundle_id, objects_total=len(bundle.records),
        objects_new=len(fresh), created_at=unit.now, using_db=connection)
    await StixObject.bulk_create([
        StixObject(
            owner=owner, visibility=visibility_of(r.tlp), tlp=r.tlp, stix_id=r.stix_id,
            stix_type=r.stix_type, modified=r.modified, source_ref=r.source_ref,
            target_ref=r.target_ref, body=r.body, import_record_id=record.id, grant=uid,
            created_at=unit.now, updated_at=unit.now,
        ) for r in fresh
    ], batch_size=200, using_db=connection)
    if recipients:
        await ThreatRecipient.bulk_create(
            [ThreatRecipient(grant=uid, principal=name) for name in recipients],
            using_db=connection)
    return Imported(record, len(bundle.records), len(fresh))


async def lock_importer(owner: str, unit: UnitOfWork) -> None:
    """Queue this unit behind any other import by `owner` until it commits: the import
    reads which versions the owner holds, then inserts the rest, which under READ
    COMMITTED lets two overlapping imports both insert one version (a unique violation,
    answered CONFLICT) unless they queue. A PostgreSQL transaction-scoped advisory lock
    (two-key form, apart from the outbox's and the plugin catalogue's keys); SQLite runs
    one writer at a time and needs nothing."""
    if unit.connection.capabilities.dialect == "postgres":
        await unit.connection.execute_query(
            "SELECT pg_advisory_xact_lock(hashtext('arcos.community.stix'), hashtext($1))",
            [owner])
