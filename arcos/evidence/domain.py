"""The evidence domain's entry in the registry (arcos/domains.py)."""

from __future__ import annotations

from importlib import resources

from arcos.auth.scopes import Scope
from arcos.evidence import rest
from arcos.evidence.events import EVIDENCE_ADDED
from arcos.evidence.schema import EvidenceMutations, EvidenceQueries, EvidenceSubscriptions
from arcos.evidence.stream import stream_openapi, stream_routes
from arcos.evidence.types import EvidenceType, ProjectType
from arcos.evidence.upgrade import add_size_columns
from arcos.registry import Domain, NodeKind

EVIDENCE = Domain(
    name="evidence",
    models=("arcos.evidence.models",),
    query=EvidenceQueries,
    mutation=EvidenceMutations,
    subscription=EvidenceSubscriptions,
    nodes=(
        NodeKind(EvidenceType, Scope.EVIDENCE_READ),
        NodeKind(ProjectType, Scope.EVIDENCE_READ),
    ),
    rest_routes=rest.ROUTES,
    rest_documents=(resources.files("arcos.evidence") / "rest.graphql",),
    http_routes=stream_routes,
    openapi_paths=stream_openapi,
    topics=(EVIDENCE_ADDED,),
    upgrades=(add_size_columns,),
)
