"""The NDJSON evidence backup format (`arcos export` / `arcos import`), version 1.

One JSON object per line, ASCII only (so no line separator but `\\n` can occur in a line):

1. a header: `{"format": "arcos-evidence", "version": 1, "exported_at": ...}`;
2. one `{"record": "evidence", ...}` per item, in the order the source store wrote them,
   with everything needed to restore it as it was: its public `uid`, `type`, `source`,
   `project` slug, `commit_sha`, `ref`, `data`, `metadata`, `sha256` (of canonical `data`,
   arcos/evidence/canonical.py), `submitted_by`, `idempotency_key`, `created_at`;
3. one `{"record": "relation", ...}` per link between two items, by their uids;
4. a trailer: `{"record": "end", "evidence": N, "relations": M}`, so a file cut at a
   line boundary is told from a complete one.

Store-internal numbers (`seq`, project ids, outbox positions) are not exported: the
target store assigns its own.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from arcos.evidence.drafts import EvidenceDraft
from arcos.evidence.models import RelationKind

FORMAT = "arcos-evidence"
VERSION = 1
EVIDENCE = "evidence"
RELATION = "relation"
END = "end"


class BadLine(ValueError):
    """A line the importer refuses; the message says why (the caller adds the number)."""


def line(record: dict[str, Any]) -> str:
    """One record as a line of the file."""
    return json.dumps(record, ensure_ascii=True, separators=(",", ":"), allow_nan=False) + "\n"


def header(exported_at: datetime) -> dict[str, Any]:
    return {"format": FORMAT, "version": VERSION, "exported_at": exported_at.isoformat()}


def trailer(evidence: int, relations: int) -> dict[str, Any]:
    return {"record": END, "evidence": evidence, "relations": relations}


@dataclass(frozen=True)
class EvidenceRecord:
    """An evidence line as read: the draft to check, and the identity it keeps."""

    draft: EvidenceDraft
    uid: uuid.UUID
    sha256: str
    submitted_by: str
    created_at: datetime


@dataclass(frozen=True)
class RelationRecord:
    source: uuid.UUID
    target: uuid.UUID
    relation: RelationKind
    created_by: str
    created_at: datetime


def parse(raw: bytes) -> dict[str, Any]:
    """A line's JSON object."""
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as error:
        raise BadLine(f"not a JSON object ({error})") from None
    if not isinstance(value, dict):
        raise BadLine("not a JSON object")
    return value


def check_header(value: dict[str, Any]) -> None:
    if value.get("format") != FORMAT:
        raise BadLine(f"not an ARCOS evidence export (the first line must be the header "
                      f"with \"format\": \"{FORMAT}\")")
    if value.get("version") != VERSION:
        raise BadLine(f"format version {value.get('version')!r} is not one this arcos reads "
                      f"(it reads version {VERSION}); import it with the arcos that wrote it")


def evidence_record(value: dict[str, Any]) -> EvidenceRecord:
    """An evidence line's fields, typed; BadLine naming the first one that is wrong."""
    draft = EvidenceDraft(
        type=_text(value, "type"), source=_text(value, "source"), data=_present(value, "data"),
        project=_text(value, "project", optional=True),
        commit_sha=_text(value, "commit_sha", optional=True),
        ref=_text(value, "ref", optional=True),
        metadata=_present(value, "metadata"),
        idempotency_key=_text(value, "idempotency_key", optional=True),
    )
    return EvidenceRecord(
        draft=draft, uid=_uid(value, "uid"), sha256=_text(value, "sha256"),
        submitted_by=_name(value, "submitted_by"), created_at=_time(value, "created_at"),
    )


def relation_record(value: dict[str, Any]) -> RelationRecord:
    try:
        relation = RelationKind(_text(value, "relation"))
    except ValueError:
        raise BadLine("relation must be one of " + ", ".join(k.value for k in RelationKind)
                      ) from None
    return RelationRecord(
        source=_uid(value, "from"), target=_uid(value, "to"), relation=relation,
        created_by=_name(value, "created_by"), created_at=_time(value, "created_at"),
    )


def _present(value: dict[str, Any], name: str) -> Any:
    if name not in value:
        raise BadLine(f"{name} is missing")
    return value[name]


def _text(value: dict[str, Any], name: str, *, optional: bool = False) -> Any:
    field = value.get(name) if optional else _present(value, name)
    if field is None and optional:
        return None
    if not isinstance(field, str):
        raise BadLine(f"{name} must be a string")
    return field


def _name(value: dict[str, Any], name: str) -> str:
    text: str = _text(value, name)
    if not 0 < len(text) <= 255:
        raise BadLine(f"{name} must be 1-255 characters")
    return text


def _uid(value: dict[str, Any], name: str) -> uuid.UUID:
    try:
        return uuid.UUID(_text(value, name))
    except ValueError:
        raise BadLine(f"{name} must be a UUID") from None


def _time(value: dict[str, Any], name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(_text(value, name))
    except ValueError:
        raise BadLine(f"{name} must be an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise BadLine(f"{name} must carry its UTC offset")
    return moment
