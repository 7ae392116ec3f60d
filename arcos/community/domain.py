"""The community domain's entry in the registry (arcos/domains.py). Its root types combine
the core fields (statistics, moderation) with each area's."""

from __future__ import annotations

from importlib import resources

import strawberry

from arcos.community import templates_rest, templates_types
from arcos.community.schema import CoreMutations, CoreQueries
from arcos.community.templates_schema import TemplateMutations, TemplateQueries
from arcos.registry import Domain


@strawberry.type
class CommunityQueries(CoreQueries, TemplateQueries):
    pass


@strawberry.type
class CommunityMutations(CoreMutations, TemplateMutations):
    pass


COMMUNITY = Domain(
    name="community",
    models=("arcos.community.templates_models",),
    query=CommunityQueries,
    mutation=CommunityMutations,
    nodes=(*templates_types.NODES,),
    rest_routes=(*templates_rest.ROUTES,),
    rest_documents=(resources.files("arcos.community") / "templates_rest.graphql",),
)
