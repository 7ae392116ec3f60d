"""The broker event for new evidence: a JSON-safe snapshot, so any broker can carry it."""

from __future__ import annotations

from typing import Any

from arcos.evidence.models import Evidence


def evidence_event(evidence: Evidence, project_slug: str | None) -> dict[str, Any]:
    """Everything a subscriber needs to render the evidence without reading the store."""
    return {
        "seq": evidence.seq,
        "uid": str(evidence.uid),
        "type": evidence.type,
        "source": evidence.source,
        "project_id": evidence.project_id,
        "project_slug": project_slug,
        "commit_sha": evidence.commit_sha,
        "ref": evidence.ref,
        "data": evidence.data,
        "metadata": evidence.metadata,
        "sha256": evidence.sha256,
        "submitted_by": evidence.submitted_by,
        "created_at": evidence.created_at.isoformat(),
    }
