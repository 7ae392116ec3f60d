"""The broker event for new evidence: a JSON-safe snapshot, so any broker can carry it.

`data` and `metadata` travel as their canonical JSON text, encoded once when the item was
written; subscribers splice that text into their messages instead of encoding the values
again (see arcos/graphql/preencoded.py).
"""

from __future__ import annotations

from typing import Any

from arcos.evidence.canonical import canonical_json
from arcos.evidence.models import Evidence

#: The large values of an event, carried as text under `<name>_json`.
JSON_VALUES = ("data", "metadata")


def evidence_event(
    evidence: Evidence, project_slug: str | None, canonical: dict[str, bytes] | None = None
) -> dict[str, Any]:
    """Everything a subscriber needs to render the evidence without reading the store.

    `canonical` is the encoding the writer already made; without it the values are
    encoded here, once per event.
    """
    texts = canonical or {name: canonical_json(getattr(evidence, name)) for name in JSON_VALUES}
    return {
        "seq": evidence.seq,
        "uid": str(evidence.uid),
        "type": evidence.type,
        "source": evidence.source,
        "project_id": evidence.project_id,
        "project_slug": project_slug,
        "commit_sha": evidence.commit_sha,
        "ref": evidence.ref,
        **{f"{name}_json": texts[name].decode("utf-8") for name in JSON_VALUES},
        "data_size": evidence.data_size,
        "metadata_size": evidence.metadata_size,
        "sha256": evidence.sha256,
        "submitted_by": evidence.submitted_by,
        "created_at": evidence.created_at.isoformat(),
    }
