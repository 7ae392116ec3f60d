"""The community domain's entry in the registry (arcos/domains.py). Its root types combine
the core fields (statistics, moderation) with each area's."""

from __future__ import annotations

from importlib import resources

import strawberry

from arcos.community import benchmarks_rest, benchmarks_types
from arcos.community.benchmarks_schema import BenchmarkMutations, BenchmarkQueries
from arcos.community.schema import CoreMutations, CoreQueries
from arcos.registry import Domain


@strawberry.type
class CommunityQueries(CoreQueries, BenchmarkQueries):
    pass


@strawberry.type
class CommunityMutations(CoreMutations, BenchmarkMutations):
    pass


COMMUNITY = Domain(
    name="community",
    models=("arcos.community.benchmarks_models",),
    query=CommunityQueries,
    mutation=CommunityMutations,
    nodes=(*benchmarks_types.NODES,),
    rest_routes=(*benchmarks_rest.ROUTES,),
    rest_documents=(resources.files("arcos.community") / "benchmarks_rest.graphql",),
)
