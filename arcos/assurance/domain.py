"""The assurance domain's entry in the registry (arcos/domains.py)."""

from __future__ import annotations

from importlib import resources

from arcos.assurance import rest
from arcos.assurance.case_watchers import CASE_WATCHERS, case_watchers
from arcos.assurance.events import CASE_EDITED
from arcos.assurance.schema import AssuranceMutations, AssuranceQueries, AssuranceSubscriptions
from arcos.assurance.types import CaseType
from arcos.evidence.scopes import EVIDENCE_READ
from arcos.registry import Domain, NodeKind, ServiceFactory

ASSURANCE = Domain(
    name="assurance",
    models=("arcos.assurance.models",),
    query=AssuranceQueries,
    mutation=AssuranceMutations,
    subscription=AssuranceSubscriptions,
    nodes=(NodeKind(CaseType, EVIDENCE_READ),),
    services=(ServiceFactory(CASE_WATCHERS, case_watchers),),
    topics=(CASE_EDITED,),
    rest_routes=rest.ROUTES,
    rest_documents=(resources.files("arcos.assurance") / "rest.graphql",),
    # PyYAML, for case documents in gsn2x YAML (arcos/assurance/document.py).
    deferred_imports=("arcos.assurance.safe_yaml",),
)
