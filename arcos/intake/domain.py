"""The intake domain's entry in the registry (arcos/domains.py)."""

from __future__ import annotations

from importlib import resources

from arcos.evidence.scopes import EVIDENCE_READ
from arcos.intake import rest
from arcos.intake.metrics import METRICS_UPDATED
from arcos.intake.schema import IntakeMutations, IntakeQueries, IntakeSubscriptions
from arcos.intake.types import FindingType
from arcos.registry import Domain, NodeKind

INTAKE = Domain(
    name="intake",
    models=("arcos.intake.models",),
    query=IntakeQueries,
    mutation=IntakeMutations,
    subscription=IntakeSubscriptions,
    nodes=(NodeKind(FindingType, EVIDENCE_READ),),
    rest_routes=rest.ROUTES,
    rest_documents=(resources.files("arcos.intake") / "rest.graphql",),
    # Reports are larger than other bodies.
    body_limits=lambda settings: {
        "/api/cicd/": settings.max_artifact_bytes,
        "/api/security/": settings.max_artifact_bytes,
    },
    topics=(METRICS_UPDATED,),
    # Every format's parser (defusedxml among them): the first upload imports them, in a
    # parse worker or thread (arcos/intake/service.py), if the app has not yet.
    deferred_imports=("arcos.formats.parse",),
)
