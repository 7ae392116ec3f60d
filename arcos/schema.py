"""The one strawberry schema: every registered domain's queries, mutations and
subscriptions merged (arcos/domains.py lists the domains).

Every transport (HTTP, websockets, REST and webhook adapters) executes against the schema
`create_schema` builds, so validation, limits and error codes exist once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from arcos.auth.permission_memo import PermissionMemo
from arcos.domains import REGISTRY
from arcos.graphql.after_writes import refresh_loaders_after_mutations
from arcos.graphql.bounds import ArgumentBounds
from arcos.graphql.budget import BoundedResponse
from arcos.graphql.core_schema import core_schema
from arcos.graphql.document_cache import DocumentCache
from arcos.graphql.errors import ClassifyErrors, log_unexpected
from arcos.graphql.limits import DocumentLimits, FreshLoaders, limit_extensions
from arcos.graphql.name_cache import RememberingNameConverter
from arcos.graphql.node import check_node_scopes, node_query
from arcos.graphql.shape import ShapeLimits
from arcos.registry import Registry
from arcos.settings import Settings


@dataclass(frozen=True)
class RootTypes:
    query: type
    mutation: type | None
    subscription: type | None


@cache
def root_types(registry: Registry) -> RootTypes:
    """Query, Mutation and Subscription inheriting every domain's parts in registry order
    (built once per registry: every schema of the process shares them)."""

    def root(name: str, parts: tuple[type, ...]) -> type | None:
        return strawberry.type(type(name, parts, {})) if parts else None

    query = root("Query", (*registry.root_parts("query"), node_query(registry.node_scopes)))
    assert query is not None  # node(id) is always there
    mutation = root("Mutation", registry.root_parts("mutation"))
    if mutation is not None:
        refresh_loaders_after_mutations(mutation)
    return RootTypes(
        query=query,
        mutation=mutation,
        subscription=root("Subscription", registry.root_parts("subscription")),
    )


class ArcosSchema(strawberry.Schema):
    """Logs only unexpected errors; expected ones (bad input, limits) are not server faults.

    Owns the cache of work done on its documents, so two schemas (two apps) in one
    process never share one.
    """

    def __init__(self, *args: Any, document_limits: DocumentLimits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.document_cache = DocumentCache()
        #: The limits its operations are checked against (prepared operations read them).
        self.document_limits = document_limits

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        log_unexpected(errors)

    def _warn_for_federation_directives(self) -> None:
        """Skipped. Strawberry's check imports its federation directives module (about
        50 ms, a quarter of building the schema, tests/benchmarks/bench_cold_start.py)
        only to warn when one is used: ARCOS is no federated subgraph and uses none."""


def create_schema(settings: Settings, registry: Registry = REGISTRY) -> ArcosSchema:
    """The schema of `registry`'s domains with `settings`' limits. The SDL does not depend
    on settings. Raises UndeclaredNodeType when a Node type has no read scope in the
    registry (node(id) would not know which scope reads it)."""
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
    extensions += [
        ArgumentBounds, FreshLoaders, BoundedResponse, PermissionMemo, ClassifyErrors
    ]
    roots = root_types(registry)
    schema = ArcosSchema(
        query=roots.query,
        mutation=roots.mutation,
        subscription=roots.subscription,
        # Every declared node type, so node(id) can return one no field reaches.
        types=[kind.type for kind in registry.node_kinds()],
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=not settings.expose_schema,
                                name_converter=RememberingNameConverter()),
        document_limits=limits,
    )
    check_node_scopes(core_schema(schema), registry.node_scopes)
    return schema


def schema_sdl() -> str:
    """The SDL committed as `schema.graphql`."""
    return create_schema(Settings()).as_str() + "\n"
