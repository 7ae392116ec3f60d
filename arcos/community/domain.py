"""The community domain's entry in the registry (arcos/domains.py). Its root types combine
the core fields (statistics, moderation) with each area's."""

from __future__ import annotations

import strawberry

from arcos.community.schema import CoreMutations, CoreQueries
from arcos.registry import Domain


@strawberry.type
class CommunityQueries(CoreQueries):
    pass


@strawberry.type
class CommunityMutations(CoreMutations):
    pass


COMMUNITY = Domain(
    name="community",
    query=CommunityQueries,
    mutation=CommunityMutations,
)
