"""The evidence domain's entry in the registry (arcos/domains.py)."""

from __future__ import annotations

from importlib import resources

from arcos.evidence import rest, scopes
from arcos.evidence.backup_cli import add_backup_commands
from arcos.evidence.events import EVIDENCE_ADDED
from arcos.evidence.schema import EvidenceMutations, EvidenceQueries, EvidenceSubscriptions
from arcos.evidence.scopes import EVIDENCE_READ
from arcos.evidence.stream import stream_openapi, stream_routes
from arcos.evidence.types import EvidenceType, ProjectType
from arcos.evidence.upgrade import add_size_columns
from arcos.registry import Domain, NodeKind

EVIDENCE = Domain(
    name="evidence",
    scopes=scopes.SCOPES,
    models=("arcos.evidence.models",),
    query=EvidenceQueries,
    mutation=EvidenceMutations,
    subscription=EvidenceSubscriptions,
    nodes=(
        NodeKind(EvidenceType, EVIDENCE_READ),
        NodeKind(ProjectType, EVIDENCE_READ),
    ),
    rest_routes=rest.ROUTES,
    rest_documents=(resources.files("arcos.evidence") / "rest.graphql",),
    http_routes=stream_routes,
    openapi_paths=stream_openapi,
    topics=(EVIDENCE_ADDED,),
    upgrades=(add_size_columns,),
    cli=add_backup_commands,
)
