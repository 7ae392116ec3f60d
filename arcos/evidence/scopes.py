"""The evidence domain's scopes (listed in its Domain, arcos/evidence/domain.py)."""

from __future__ import annotations

from arcos.auth.scopes import Scope

EVIDENCE_READ = Scope(
    "evidence:read", "Read projects, evidence and uploads.", anonymous_read=True
)
EVIDENCE_WRITE = Scope(
    "evidence:write", "Record evidence, link it, upload reports.", counts_as_write=True
)

SCOPES = (EVIDENCE_READ, EVIDENCE_WRITE)
