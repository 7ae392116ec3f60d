"""The community domain's entry in the registry (arcos/domains.py). Its root types combine
the core fields (statistics, moderation) with each area's."""

from __future__ import annotations

from importlib import resources

import strawberry

from arcos.auth.scopes import Scope
from arcos.community import threats_rest
from arcos.community.schema import CoreMutations, CoreQueries
from arcos.community.threats_events import TOPICS as THREAT_TOPICS
from arcos.community.threats_schema import ThreatMutations, ThreatQueries, ThreatSubscriptions
from arcos.community.threats_types import NODES as THREAT_NODES
from arcos.registry import Domain, NodeKind


@strawberry.type
class CommunityQueries(CoreQueries, ThreatQueries):
    pass


@strawberry.type
class CommunityMutations(CoreMutations, ThreatMutations):
    pass


@strawberry.type
class CommunitySubscriptions(ThreatSubscriptions):
    pass


COMMUNITY = Domain(
    name="community",
    query=CommunityQueries,
    mutation=CommunityMutations,
    subscription=CommunitySubscriptions,
    models=("arcos.community.threats_models",),
    nodes=tuple(NodeKind(node, Scope.COMMUNITY_READ) for node in THREAT_NODES),
    rest_routes=threats_rest.ROUTES,
    rest_documents=(resources.files("arcos.community") / "threats_rest.graphql",),
    topics=THREAT_TOPICS,
)
