"""The community domain's entry in the registry (arcos/domains.py). Its root types combine
the core fields (statistics, moderation) with each area's: the libraries of patterns and
practices, threat intelligence, templates and benchmarks."""

from __future__ import annotations

from importlib import resources

import strawberry

from arcos.auth.scopes import Scope
from arcos.community import (
    benchmarks_rest,
    benchmarks_types,
    templates_rest,
    templates_types,
    threats_rest,
)
from arcos.community.benchmarks_schema import BenchmarkMutations, BenchmarkQueries
from arcos.community.schema import CoreMutations, CoreQueries
from arcos.community.templates_schema import TemplateMutations, TemplateQueries
from arcos.community.threats_events import TOPICS as THREAT_TOPICS
from arcos.community.threats_schema import ThreatMutations, ThreatQueries, ThreatSubscriptions
from arcos.community.threats_types import NODES as THREAT_NODES
from arcos.registry import Domain, NodeKind


@strawberry.type
class CommunityQueries(CoreQueries, ThreatQueries, TemplateQueries, BenchmarkQueries):
    pass


@strawberry.type
class CommunityMutations(CoreMutations, ThreatMutations, TemplateMutations, BenchmarkMutations):
    pass


@strawberry.type
class CommunitySubscriptions(ThreatSubscriptions):
    pass


_DOCUMENTS = resources.files("arcos.community")

COMMUNITY = Domain(
    name="community",
    models=("arcos.community.threats_models", "arcos.community.templates_models",
            "arcos.community.benchmarks_models"),
    query=CommunityQueries,
    mutation=CommunityMutations,
    subscription=CommunitySubscriptions,
    nodes=(
        *(NodeKind(node, Scope.COMMUNITY_READ) for node in THREAT_NODES),
        *templates_types.NODES,
        *benchmarks_types.NODES,
    ),
    rest_routes=(*threats_rest.ROUTES, *templates_rest.ROUTES, *benchmarks_rest.ROUTES),
    rest_documents=(_DOCUMENTS / "threats_rest.graphql", _DOCUMENTS / "templates_rest.graphql",
                    _DOCUMENTS / "benchmarks_rest.graphql"),
    topics=THREAT_TOPICS,
)
