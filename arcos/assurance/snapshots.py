"""Release snapshots: a case frozen with every element's status and a seal of every evidence
item its status relied on, chained to the case's previous snapshot and signed with the
server key, so a later edit of the case or of the evidence in the database is detectable.

A snapshot's body is canonical JSON (arcos/evidence/canonical.py):

- `case`: the case's id, version, project and document (the JSON form its codec writes);
- `elements`: each element's status, and for a Solution the evidence ids that decided it
  and why;
- `evidence`: for each item relied on, its `sha256` (of its canonical data, as the store
  computed it on receipt) and `row`, the SHA-256 of the rest of what identifies it (type,
  source, project, commit, ref, metadata, received-at);
- `previous`: the hash of the case's previous snapshot (None for the first), `taken_at`.

Its `hash` is the SHA-256 of that body; the signature is the server key's (the plugin
signing key, arcos/plugins/signing.py, `sign_record("assurance-snapshot", hash)`).

`verify` recomputes everything from what the store holds now: the body's hash, the
signature, the chain link, the case document (as stored for the snapshot's version — a
later version of the case is a legitimate edit, a changed old version is not) and every
sealed item's data hash, column and row seal, naming each difference.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from arcos.assurance.evaluation import ElementStatus, Verdict
from arcos.evidence.canonical import canonical_json, sha256_hex
from arcos.evidence.models import Evidence

FORMAT = "arcos-assurance-snapshot/1"
PURPOSE = "assurance-snapshot"
#: Evidence rows read per query when sealing or verifying (their data is read whole).
SEAL_CHUNK = 200


class Signer(Protocol):
    """The server key as snapshots use it (arcos.plugins.signing.PluginSigner)."""

    @property
    def key_id(self) -> str: ...

    def sign_record(self, purpose: str, payload: bytes) -> str: ...

    def verify_record(self, purpose: str, payload: bytes, signature: str) -> bool: ...


@dataclass(frozen=True)
class Seal:
    """What a snapshot records of one evidence item."""

    sha256: str
    row: str

    def to_json(self) -> dict[str, str]:
        return {"sha256": self.sha256, "row": self.row}


@dataclass(frozen=True)
class Snapshot:
    """A signed, chained body; `body` is what `hash` and the signature cover."""

    body: dict[str, Any]
    hash: str
    signature: str
    key_id: str

    @property
    def previous(self) -> str | None:
        return self.body["previous"]

    def to_json(self) -> dict[str, Any]:
        """The stored and exported form (a copy: editing it leaves the snapshot as it
        was); `from_json` reads it back."""
        return {"body": _json_round_trip(self.body), "hash": self.hash,
                "signature": self.signature, "key_id": self.key_id}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Snapshot:
        return cls(_json_round_trip(raw["body"]), str(raw["hash"]), str(raw["signature"]),
                   str(raw["key_id"]))


@dataclass(frozen=True)
class Verification:
    """Whether a snapshot still matches the store; each problem is one sentence."""

    problems: tuple[str, ...]

    @property
    def valid(self) -> bool:
        return not self.problems


def body_hash(body: Mapping[str, Any]) -> str:
    return sha256_hex(canonical_json(body))


def seal_of(row: Evidence, project_slug: str | None) -> Seal:
    """The seal of an evidence row as the store holds it: its data hash recomputed (not
    the `sha256` column, which an edit could leave behind) and the rest of the row."""
    rest = {"uid": str(row.uid), "type": row.type, "source": row.source,
            "project": project_slug, "commit_sha": row.commit_sha, "ref": row.ref,
            "metadata": row.metadata, "sha256_column": row.sha256,
            "created_at": row.created_at.isoformat()}
    return Seal(sha256_hex(canonical_json(row.data)), body_hash(rest))


async def read_seals(ids: Iterable[uuid.UUID | str]) -> dict[str, Seal]:
    """The seals of the stored items among `ids`, by uuid text (absent ids: not stored),
    in one query per SEAL_CHUNK items."""
    wanted = sorted({str(uid) for uid in ids})
    seals = {}
    for start in range(0, len(wanted), SEAL_CHUNK):
        rows = await Evidence.filter(uid__in=wanted[start:start + SEAL_CHUNK]
                                     ).select_related("project")
        for row in rows:
            seals[str(row.uid)] = seal_of(row, row.project.slug if row.project else None)
    return seals


def build(*, case_id: str, version: int | None, project: str, document: Mapping[str, Any],
          statuses: Mapping[str, ElementStatus], verdicts: Mapping[str, Verdict],
          seals: Mapping[str, Seal], previous: str | None, taken_at: datetime,
          signer: Signer) -> Snapshot:
    """A snapshot of a case whose status is `statuses` (from `aggregate`) with the
    Solutions' `verdicts`; `seals` must hold every evidence id the verdicts cite (see
    `read_seals`); `previous`: the hash of the case's previous snapshot."""
    cited = sorted({str(uid) for verdict in verdicts.values() for uid in verdict.evidence_ids})
    unsealed = [uid for uid in cited if uid not in seals]
    if unsealed:
        raise ValueError(f"no seal for evidence {', '.join(unsealed[:5])}: read the seals of "
                         "every cited item first (it may have been removed)")
    elements: dict[str, Any] = {}
    for element, status in sorted(statuses.items()):
        entry: dict[str, Any] = {"status": status.value}
        if (verdict := verdicts.get(element)) is not None:
            entry["evidence"] = [str(uid) for uid in verdict.evidence_ids]
            entry["reason"] = verdict.reason
        elements[element] = entry
    body = {
        "format": FORMAT,
        "case": {"id": case_id, "version": version, "project": project,
                 "document": document},
        "elements": elements,
        "evidence": {uid: seals[uid].to_json() for uid in cited},
        "previous": previous,
        "taken_at": taken_at.isoformat(),
    }
    # the body as its canonical JSON reads back, so a stored copy compares equal
    body = _json_round_trip(body)
    digest = body_hash(body)
    return Snapshot(body, digest, signer.sign_record(PURPOSE, digest.encode("ascii")),
                    signer.key_id)


async def take(*, case_id: str, version: int | None, project: str,
               document: Mapping[str, Any], statuses: Mapping[str, ElementStatus],
               verdicts: Mapping[str, Verdict], previous: str | None, taken_at: datetime,
               signer: Signer) -> Snapshot:
    """`build` with the cited evidence's seals read from the store."""
    seals = await read_seals(uid for verdict in verdicts.values()
                             for uid in verdict.evidence_ids)
    return build(case_id=case_id, version=version, project=project, document=document,
                 statuses=statuses, verdicts=verdicts, seals=seals, previous=previous,
                 taken_at=taken_at, signer=signer)


def check(snapshot: Snapshot, *, document: Mapping[str, Any] | None,
          seals: Mapping[str, Seal], previous: Snapshot | None, signer: Signer
          ) -> Verification:
    """Every difference between `snapshot` and what is held now: `document`, the case's
    stored document for the snapshot's version (None: that version is gone); `seals`, the
    cited items' seals now; `previous`, the snapshot it claims to follow (None for the
    first)."""
    problems = []
    digest = body_hash(snapshot.body)
    if digest != snapshot.hash:
        problems.append(f"the snapshot's content does not match its hash {snapshot.hash}: "
                        "the stored snapshot was edited")
    if snapshot.key_id != signer.key_id:
        problems.append(f"the snapshot was signed with key {snapshot.key_id}, not this "
                        f"server's {signer.key_id}")
    elif not signer.verify_record(PURPOSE, snapshot.hash.encode("ascii"), snapshot.signature):
        problems.append("the signature does not match the snapshot's hash under this server's "
                        "key")
    claimed = snapshot.body.get("previous")
    if previous is None and claimed is not None:
        problems.append(f"the snapshot follows {claimed}, which is not stored")
    elif previous is not None and claimed != previous.hash:
        problems.append(f"the chain is broken: the snapshot follows {claimed}, but the "
                        f"previous snapshot's hash is {previous.hash}")
    elif previous is not None and body_hash(previous.body) != previous.hash:
        problems.append(f"the previous snapshot {previous.hash} was edited")
    case = snapshot.body.get("case", {})
    if document is None:
        problems.append(f"version {case.get('version')} of case {case.get('id')} is no longer "
                        "stored")
    elif body_hash(_json_round_trip(document)) != body_hash(case.get("document")):
        problems.append(f"case {case.get('id')} version {case.get('version')} was edited "
                        "after the snapshot: " + _changes(case.get("document"), document))
    for uid, sealed in sorted(snapshot.body.get("evidence", {}).items()):
        now = seals.get(uid)
        if now is None:
            problems.append(f"evidence {uid} is no longer stored")
            continue
        if now.sha256 != sealed.get("sha256"):
            problems.append(f"evidence {uid}: its data changed (SHA-256 {sealed.get('sha256')} "
                            f"at the snapshot, {now.sha256} now)")
        if now.row != sealed.get("row"):
            problems.append(f"evidence {uid}: its row changed (type, source, project, commit, "
                            "ref, metadata, sha256 column or received-at)")
    return Verification(tuple(problems))


async def verify(snapshot: Snapshot, *, document: Mapping[str, Any] | None,
                 previous: Snapshot | None, signer: Signer) -> Verification:
    """`check` against the evidence the store holds now."""
    seals = await read_seals(snapshot.body.get("evidence", {}))
    return check(snapshot, document=document, seals=seals, previous=previous, signer=signer)


def _json_round_trip(value: Any) -> Any:
    return json.loads(canonical_json(value))


def _changes(before: Any, after: Mapping[str, Any]) -> str:
    """What differs, for the message: the elements by id when the document is the JSON form
    (`{"title": …, "elements": [{"id": …}, …]}`), else the top-level keys."""
    if not isinstance(before, Mapping):
        return "the document was replaced"
    after = _json_round_trip(after)
    parts = [key for key in sorted({*before, *after})
             if key != "elements" and before.get(key) != after.get(key)]
    old, new = _by_id(before.get("elements")), _by_id(after.get("elements"))
    if old is None or new is None:
        parts += ["elements"] if before.get("elements") != after.get("elements") else []
    else:
        parts += [f"element {element}" for element in sorted({*old, *new})
                  if old.get(element) != new.get(element)]
    return ("changed " + ", ".join(parts[:10]) + (" …" if len(parts) > 10 else "")
            if parts else "the document differs")


def _by_id(elements: Any) -> dict[str, Any] | None:
    if not isinstance(elements, list) or not all(
            isinstance(item, Mapping) and isinstance(item.get("id"), str) for item in elements):
        return None
    return {item["id"]: item for item in elements}
