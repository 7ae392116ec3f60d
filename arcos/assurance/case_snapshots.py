"""Taking and verifying release snapshots of stored cases: the case's live status and the
seals of the evidence it relied on (arcos/assurance/snapshots.py builds and checks them),
stored chained per case."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from arcos.assurance import service, snapshots
from arcos.assurance.document import to_json
from arcos.assurance.evaluation import Verdict
from arcos.assurance.models import AssuranceCase, AssuranceCaseVersion, AssuranceSnapshot
from arcos.assurance.snapshots import Signer, Snapshot, Verification
from arcos.assurance.status import case_status
from arcos.community.gsn import NodeType
from arcos.problems import ProblemCode, Refused
from arcos.store.unit_of_work import UnitOfWork
from arcos.store.write_context import WriteContext

#: Elements whose verdict a snapshot records (the others are aggregated from them).
_DECIDED = (NodeType.SOLUTION, NodeType.AWAY_GOAL)


@dataclass(frozen=True)
class StoredSnapshot:
    row: AssuranceSnapshot
    snapshot: Snapshot


async def snapshot_case(case_id: str, signer: Signer, write: WriteContext) -> StoredSnapshot:
    """Freeze the case's newest version with its status now, chained to its last snapshot."""
    found = await service.find_case(case_id)
    if found is None:
        raise Refused.one("id", f"no assurance case {case_id:.80}", ProblemCode.NOT_FOUND)
    now = write.writer.clock()
    status = await case_status(found, at=None, now=now)
    statuses = {state.id: state.status for state in status.elements}
    verdicts = {state.id: Verdict(state.status, state.evidence_ids, state.reason)
                for state in status.elements if state.kind in _DECIDED}
    document = to_json(found.document)
    seals = await snapshots.read_seals(uid for verdict in verdicts.values()
                                       for uid in verdict.evidence_ids)

    async def work(unit: UnitOfWork) -> StoredSnapshot:
        last = await AssuranceSnapshot.filter(case_id=found.case.id) \
            .using_db(unit.connection).order_by("-number").first()
        taken = snapshots.build(
            case_id=str(found.case.uid), version=found.version.number,
            project=found.case.project, document=document, statuses=statuses,
            verdicts=verdicts, seals=seals, previous=last.hash if last else None,
            taken_at=unit.now, signer=signer)
        row = await AssuranceSnapshot.create(
            case=found.case, number=(last.number if last else 0) + 1, hash=taken.hash,
            previous=taken.previous, snapshot=taken.to_json(), created_by=write.principal,
            created_at=unit.now, using_db=unit.connection)
        return StoredSnapshot(row, taken)

    return await write.writer.run(work)


async def verify_snapshot(digest: str, signer: Signer) -> tuple[StoredSnapshot, Verification]:
    """A stored snapshot checked against what the store holds now."""
    row = await AssuranceSnapshot.filter(hash=digest.strip().lower()).first()
    if row is None:
        raise Refused.one("hash", f"no snapshot with hash {digest:.80}", ProblemCode.NOT_FOUND)
    taken = _readable(row)
    case = taken.body.get("case", {})
    previous_row = await AssuranceSnapshot.filter(hash=taken.previous).first() \
        if taken.previous else None
    owner = await AssuranceCase.filter(id=row.case_id).first()
    version = await AssuranceCaseVersion.filter(
        case_id=row.case_id, number=case.get("version")).first()
    document = to_json(service.document_of(version)) if version is not None else None
    verification = await snapshots.verify(
        taken, document=document,
        previous=_readable(previous_row) if previous_row else None,
        signer=signer)
    binding = _binding_problems(row, owner, taken, case)
    if binding:
        verification = replace(verification, problems=(*binding, *verification.problems))
    return StoredSnapshot(row, taken), verification


def _readable(row: AssuranceSnapshot) -> Snapshot:
    """The row's snapshot, or Refused when its stored JSON is no snapshot any more."""
    try:
        taken = Snapshot.from_json(row.snapshot)
        if not isinstance(taken.body, dict) or not isinstance(taken.body.get("case"), dict):
            raise TypeError("no case in its body")
        taken.previous  # noqa: B018 - reads body["previous"]: KeyError when edited away
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise Refused.one("hash", f"the stored snapshot {row.hash} is not a snapshot any more "
                          f"({type(error).__name__}: {error!s:.80}): it was edited in the "
                          "database", ProblemCode.INVALID) from None
    return taken


def _binding_problems(row: AssuranceSnapshot, owner: AssuranceCase | None, taken: Snapshot,
                      case: dict[str, Any]) -> list[str]:
    """What ties the looked-up row to the signed body: its hash, its previous hash, its
    case, and the case's project now against the one signed."""
    problems = []
    if row.hash != taken.hash:
        problems.append(f"the row for snapshot {row.hash} holds snapshot {taken.hash}: rows "
                        "were swapped or copied in the database")
    if row.previous != taken.previous:
        problems.append(f"the row for snapshot {row.hash} follows {row.previous}, but the "
                        f"signed snapshot follows {taken.previous}")
    if owner is None or str(owner.uid) != str(case.get("id")):
        problems.append(f"the row for snapshot {row.hash} belongs to case "
                        f"{owner.uid if owner else 'none'}, but the signed snapshot is of "
                        f"case {case.get('id')}")
    elif owner.project != case.get("project"):
        problems.append(f"case {owner.uid} now belongs to project {owner.project}, but the "
                        f"snapshot was signed for project {case.get('project')}")
    return problems
