"""The broker event for new evidence: a JSON-safe snapshot, so any broker can carry it.

`data` and `metadata` travel as JSON text encoded once per event; subscribers splice that
text into their messages instead of encoding the values again (see
arcos/web/preencoded.py). The text is canonical JSON with non-ASCII characters escaped,
as every other message is: an ASCII string is copied into each message and out to each
socket as plain bytes, where one with other characters would be transcoded per subscriber.
"""

from __future__ import annotations

import json
import re
from typing import Any

from arcos.broker import channels
from arcos.evidence.canonical import canonical_json
from arcos.evidence.models import LARGE_VALUES, Evidence
from arcos.store.outbox import Message

#: The topic every new evidence item is published on, and narrowed per project and type.
EVIDENCE_ADDED = "evidence.added"


def evidence_message(
    evidence: Evidence, project_slug: str | None, canonical: dict[str, bytes] | None = None
) -> Message:
    """What a writer publishes for a new item. The outbox keeps only its `seq`: a reader
    catching up loads the item itself, so large values are not stored twice."""
    return Message(
        topic=EVIDENCE_ADDED,
        event=evidence_event(evidence, project_slug, canonical),
        key=str(evidence.seq),
        channels=channels(EVIDENCE_ADDED, project=project_slug, type=evidence.type),
        record={"seq": evidence.seq},
    )


def evidence_event(
    evidence: Evidence, project_slug: str | None, canonical: dict[str, bytes] | None = None
) -> dict[str, Any]:
    """Everything a subscriber needs to render the evidence without reading the store.

    `canonical` is the encoding the writer already made; without it the values are
    encoded here, once per event.
    """
    known = canonical or {}
    texts = {name: ascii_json(getattr(evidence, name), known.get(name)) for name in LARGE_VALUES}
    return {
        "seq": evidence.seq,
        "uid": str(evidence.uid),
        "type": evidence.type,
        "source": evidence.source,
        "project_id": evidence.project_id,
        "project_slug": project_slug,
        "commit_sha": evidence.commit_sha,
        "ref": evidence.ref,
        **{f"{name}_json": texts[name] for name in LARGE_VALUES},
        "data_size": evidence.data_size,
        "metadata_size": evidence.metadata_size,
        "sha256": evidence.sha256,
        "submitted_by": evidence.submitted_by,
        "created_at": evidence.created_at.isoformat(),
    }


def ascii_json(value: Any, canonical: bytes | None) -> str:
    """Canonical JSON of `value` with non-ASCII escaped; reuses `canonical` when it is ASCII."""
    encoded = canonical if canonical is not None else canonical_json(value)
    return ascii_text(encoded.decode("utf-8"))


_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")


def ascii_text(text: str) -> str:
    """JSON `text` with non-ASCII characters escaped, as `ascii_json` makes it.

    Valid JSON has such characters only inside strings, so escaping them changes no value;
    `json.dumps` of a run of them is exactly their escapes (one C call per run).
    """
    if text.isascii():
        return text
    return _NON_ASCII_RUN.sub(lambda run: json.dumps(run.group())[1:-1], text)
