"""The one strawberry schema: every domain's queries, mutations and subscriptions merged.

Every transport (HTTP, websockets, REST and webhook adapters) executes against the schema
`create_schema` builds, so validation, limits and error codes exist once.
"""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry import relay
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext, Info

from arcos.auth.permissions import requires
from arcos.auth.schema import AuthMutations, AuthQueries
from arcos.auth.scopes import Scope
from arcos.evidence.schema import EvidenceMutations, EvidenceQueries, EvidenceSubscriptions
from arcos.graphql.after_writes import refresh_loaders_after_mutations
from arcos.graphql.bounds import ArgumentBounds
from arcos.graphql.budget import BoundedResponse
from arcos.graphql.document_cache import DocumentCache
from arcos.graphql.errors import ClassifyErrors, log_unexpected
from arcos.graphql.limits import DocumentLimits, FreshLoaders, limit_extensions
from arcos.graphql.shape import ShapeLimits
from arcos.intake.schema import IntakeMutations, IntakeQueries, IntakeSubscriptions
from arcos.settings import Settings
from arcos.webhooks.schema import WebhookMutations, WebhookQueries


@strawberry.type
class Query(EvidenceQueries, AuthQueries, WebhookQueries, IntakeQueries):
    @strawberry.field(
        description="Any stored object by its global id; null when there is none.",
        permission_classes=[requires(Scope.EVIDENCE_READ)],
    )
    async def node(self, info: Info, id: relay.GlobalID) -> relay.Node | None:
        # A resolver rather than relay.node(): that field object cannot be shared by the
        # several schemas (different limits) one process may build.
        return await id.resolve_node(info, required=False)


@strawberry.type
class Mutation(EvidenceMutations, AuthMutations, WebhookMutations, IntakeMutations):
    pass


@strawberry.type
class Subscription(EvidenceSubscriptions, IntakeSubscriptions):
    pass


class ArcosSchema(strawberry.Schema):
    """Logs only unexpected errors; expected ones (bad input, limits) are not server faults.

    Owns the cache of work done on its documents, so two schemas (two apps) in one
    process never share one.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.document_cache = DocumentCache()

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        log_unexpected(errors)


def create_schema(settings: Settings) -> ArcosSchema:
    """The schema with `settings`' limits. The SDL does not depend on settings."""
    limits = DocumentLimits(
        ShapeLimits(
            max_depth=settings.max_query_depth,
            max_aliases=settings.max_aliases,
            max_cost=settings.max_query_cost,
            max_page_size=settings.max_page_size,
        ),
        max_fragment_spreads=settings.max_fragment_spreads,
        max_field_merges=settings.max_field_merges,
    )
    extensions: list[Any] = limit_extensions(
        max_tokens=settings.max_tokens, limits=limits, expose_schema=settings.expose_schema
    )
    extensions += [ArgumentBounds, FreshLoaders, BoundedResponse, ClassifyErrors]
    refresh_loaders_after_mutations(Mutation)
    return ArcosSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=not settings.expose_schema),
    )


def schema_sdl() -> str:
    """The SDL committed as `schema.graphql`."""
    return create_schema(Settings()).as_str() + "\n"
