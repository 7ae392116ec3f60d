"""The community domain's entry in the registry (arcos/domains.py). Its root types combine
the core fields (statistics, moderation) with each area's."""

from __future__ import annotations

from importlib import resources

import strawberry

from arcos.auth.scopes import Scope
from arcos.community import library_rest
from arcos.community.library_schema import LibraryMutations, LibraryQueries
from arcos.community.library_types import BestPracticeType, QualityPatternType
from arcos.community.schema import CoreMutations, CoreQueries
from arcos.registry import Domain, NodeKind


@strawberry.type
class CommunityQueries(CoreQueries, LibraryQueries):
    pass


@strawberry.type
class CommunityMutations(CoreMutations, LibraryMutations):
    pass


COMMUNITY = Domain(
    name="community",
    models=("arcos.community.library_models",),
    query=CommunityQueries,
    mutation=CommunityMutations,
    nodes=(
        NodeKind(QualityPatternType, Scope.COMMUNITY_READ),
        NodeKind(BestPracticeType, Scope.COMMUNITY_READ),
    ),
    rest_routes=library_rest.ROUTES,
    rest_documents=(resources.files("arcos.community") / "library_rest.graphql",),
)
