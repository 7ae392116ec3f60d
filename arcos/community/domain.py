"""The community domain's entry in the registry (arcos/domains.py). Its root types combine
the core fields (statistics, moderation) with each area's: the libraries of patterns and
practices, threat intelligence, templates and benchmarks."""

from importlib import resources

import strawberry

from arcos.community import (
    benchmarks_rest,
    benchmarks_types,
    library_rest,
    rest,
    scopes,
    templates_rest,
    templates_types,
    threats_patterns,
    threats_rest,
)
from arcos.community.benchmarks_schema import BenchmarkMutations, BenchmarkQueries
from arcos.community.library_schema import LibraryMutations, LibraryQueries
from arcos.community.library_types import BestPracticeType, QualityPatternType
from arcos.community.schema import CoreMutations, CoreQueries
from arcos.community.scopes import COMMUNITY_READ
from arcos.community.templates_schema import TemplateMutations, TemplateQueries
from arcos.community.threats_events import TOPICS as THREAT_TOPICS
from arcos.community.threats_schema import ThreatMutations, ThreatQueries, ThreatSubscriptions
from arcos.community.threats_types import NODES as THREAT_NODES
from arcos.registry import Domain, NodeKind


@strawberry.type
class CommunityQueries(
    CoreQueries, LibraryQueries, ThreatQueries, TemplateQueries, BenchmarkQueries
):
    pass


@strawberry.type
class CommunityMutations(
    CoreMutations, LibraryMutations, ThreatMutations, TemplateMutations, BenchmarkMutations
):
    pass


@strawberry.type
class CommunitySubscriptions(ThreatSubscriptions):
    pass


_FILES = resources.files("arcos.community")

COMMUNITY = Domain(
    name="community",
    scopes=scopes.SCOPES,
    models=(
        "arcos.community.library_models", "arcos.community.threats_models",
        "arcos.community.templates_models", "arcos.community.benchmarks_models",
    ),
    query=CommunityQueries,
    mutation=CommunityMutations,
    subscription=CommunitySubscriptions,
    nodes=(
        NodeKind(QualityPatternType, COMMUNITY_READ),
        NodeKind(BestPracticeType, COMMUNITY_READ),
        *(NodeKind(node, COMMUNITY_READ) for node in THREAT_NODES),
        *templates_types.NODES,
        *benchmarks_types.NODES,
    ),
    rest_routes=(
        *rest.ROUTES, *library_rest.ROUTES, *threats_rest.ROUTES, *templates_rest.ROUTES,
        *benchmarks_rest.ROUTES,
    ),
    rest_documents=(_FILES / "rest.graphql", *(
        _FILES / f"{area}_rest.graphql"
        for area in ("library", "threats", "templates", "benchmarks"))),
    topics=THREAT_TOPICS,
    deferred_imports=threats_patterns.DEFERRED_IMPORTS,
)
