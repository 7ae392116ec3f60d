"""The one place a domain plugs in: what it adds to the store, the schema and REST.

Each domain folder declares one `Domain` in its `domain.py`; `arcos/domains.py` lists them.
The schema, the store's model list, node(id)'s scopes, the REST table and its GraphQL
documents are all read from that list, so adding a domain is one folder and one line.
DataLoaders need no entry: they register themselves per request (arcos/graphql/loaders.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from strawberry import relay
from strawberry.types import get_object_definition

from arcos.auth.scopes import ADMIN, Scope, ScopeCatalogue

if TYPE_CHECKING:  # the registry itself loads no adapter: it only holds the domains' rows
    import argparse
    from importlib.resources.abc import Traversable

    from graphql import GraphQLSchema
    from starlette.routing import BaseRoute

    from arcos.graphql.context import AppServices
    from arcos.rest.adapter import RestAdapter
    from arcos.rest.operations import PreparedOperation
    from arcos.rest.table import RestRoute
    from arcos.settings import Settings
    from arcos.store.housekeeping import Sweep

RootType = Literal["query", "mutation", "subscription"]
#: Adds a domain's commands to the `arcos` command line (its sub-parsers).
CliHook = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]
#: OpenAPI path items for a domain's own HTTP routes (`Domain.http_routes`), which are not
#: table rows, from the prepared REST operations and the GraphQL schema.
OpenApiPaths = Callable[
    ["dict[str, PreparedOperation]", "GraphQLSchema"], "dict[str, dict[str, Any]]"
]


class AppService(Protocol):
    """Something a domain needs for the app's whole life (a process pool, a key): started
    when the app's lifespan starts, after the store opens, and closed when it ends."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class ServiceFactory:
    """How a domain builds one of its app services. Resolvers reach it by `name` through
    their context (`ArcosContext.service(name)`), so the plumbing never imports the domain
    that owns it."""

    name: str
    build: Callable[[AppServices], AppService]


@dataclass(frozen=True)
class NodeKind:
    """A stored object `node(id)` can return, and the scope a caller needs to read it."""

    type: type[relay.Node]
    scope: Scope

    @property
    def type_name(self) -> str:
        """The GraphQL name, as it appears in the type's global ids."""
        definition = get_object_definition(self.type, strict=True)
        return definition.name


@dataclass(frozen=True)
class Domain:
    """Everything one domain adds to the server.

    The mixins are `@strawberry.type` classes of root fields; the schema's root types
    inherit them in the registry's order, which is also the order of their fields in the
    SDL.
    """

    name: str
    #: Modules holding the domain's Tortoise models.
    models: tuple[str, ...] = ()
    query: type | None = None
    mutation: type | None = None
    subscription: type | None = None
    #: The scopes it declares (arcos/<domain>/scopes.py); tokens may carry them.
    scopes: tuple[Scope, ...] = ()
    #: The Relay node types it owns, each with the scope node(id) requires for it.
    nodes: tuple[NodeKind, ...] = ()
    #: Its rows in the REST adapter table.
    rest_routes: tuple[RestRoute, ...] = ()
    #: The .graphql files holding the operations its REST rows and HTTP adapters run.
    rest_documents: tuple[Traversable, ...] = ()
    #: HTTP routes of its own beyond table rows (webhook receivers, the SSE stream), built
    #: on the app's REST adapter so they too run GraphQL operations.
    http_routes: Callable[[RestAdapter], Sequence[BaseRoute]] | None = None
    #: Body-size limits for its path prefixes, when larger than ARCOS_MAX_BODY_BYTES.
    body_limits: Callable[[Settings], dict[str, int]] | None = None
    #: Retention jobs the app's housekeeping runs on its schedule.
    sweeps: Callable[[Settings], Sequence[Sweep]] | None = None
    #: The broker topics it publishes; a unit of work refuses to publish any other.
    topics: tuple[str, ...] = ()
    #: Services the app owns on its behalf, started and closed with the app.
    services: tuple[ServiceFactory, ...] = ()
    #: Brings a store written by an ARCOS from before migrations up to the baseline
    #: (columns `generate_schemas` did not add). Run in order only when such a store is
    #: adopted (arcos/store/adoption.py), in the migration's transaction, before its tables
    #: are checked; each must be a no-op where there is nothing to do. Every later schema
    #: change is a migration (arcos/migrations/), not an upgrade.
    upgrades: tuple[Callable[[], Awaitable[None]], ...] = ()
    #: Modules its handlers import on first use rather than at start-up (costly to
    #: import, needed by no start-up step); the app imports them in a background thread
    #: once it serves (arcos/web/deferred_imports.py).
    deferred_imports: tuple[str, ...] = ()
    #: Its commands on the `arcos` command line, if any.
    cli: CliHook | None = None
    #: OpenAPI path items for its own HTTP routes (beside the table's rows).
    openapi_paths: OpenApiPaths | None = None
    #: Sections it adds to GET /api/ecosystem/documentation (e.g. its webhook receivers).
    documentation: Callable[[], dict[str, Any]] | None = None

    def root_part(self, root: RootType) -> type | None:
        """The mixin this domain adds to the `root` type, if any."""
        part: type | None = getattr(self, root)
        return part


@dataclass(frozen=True, eq=False)
class Registry:
    """The domains a server runs, in schema order. Compared by identity, so the schema's
    root types can be built once per registry."""

    domains: tuple[Domain, ...]
    #: Every scope the domains declare, and `admin` (last): built from `domains`.
    scopes: ScopeCatalogue = field(init=False)

    def __post_init__(self) -> None:
        names = [domain.name for domain in self.domains]
        if len(set(names)) != len(names):
            raise ValueError(f"a domain is registered twice: {names}")
        kinds = [kind.type_name for kind in self.node_kinds()]
        if len(set(kinds)) != len(kinds):
            raise ValueError(f"a node type is claimed by two domains: {kinds}")
        owners: dict[str, str] = {ADMIN.value: "auth"}
        for domain in self.domains:
            for scope in domain.scopes:
                if scope in owners:
                    raise ValueError(
                        f"the scope {scope.value!r} of domain {domain.name!r} is already "
                        f"declared by {owners[scope]!r}"
                    )
                owners[scope] = domain.name
        object.__setattr__(self, "scopes", ScopeCatalogue(
            (*(scope for domain in self.domains for scope in domain.scopes), ADMIN)
        ))
        for kind in self.node_kinds():
            if kind.scope not in self.scopes:
                raise ValueError(
                    f"node type {kind.type_name} needs the scope {kind.scope.value!r}, which "
                    "no registered domain declares (list it in its Domain(scopes=...))"
                )

    def __iter__(self) -> Iterator[Domain]:
        return iter(self.domains)

    @property
    def model_modules(self) -> tuple[str, ...]:
        """Every module holding Tortoise models, for the store's config."""
        return tuple(module for domain in self.domains for module in domain.models)

    def root_parts(self, root: RootType) -> tuple[type, ...]:
        """The mixins the `root` type inherits, in domain order."""
        return tuple(
            part for domain in self.domains if (part := domain.root_part(root)) is not None
        )

    def node_kinds(self) -> Iterator[NodeKind]:
        return (kind for domain in self.domains for kind in domain.nodes)

    @property
    def node_scopes(self) -> dict[str, Scope]:
        """The scope node(id) requires, by the GraphQL type name in the global id."""
        return {kind.type_name: kind.scope for kind in self.node_kinds()}

    @property
    def rest_routes(self) -> tuple[RestRoute, ...]:
        """The REST adapter table: every domain's rows."""
        return tuple(route for domain in self.domains for route in domain.rest_routes)

    def http_routes(self, adapter: RestAdapter) -> list[BaseRoute]:
        """Every domain's own HTTP routes."""
        return [
            route for domain in self.domains if domain.http_routes is not None
            for route in domain.http_routes(adapter)
        ]

    def body_limits(self, settings: Settings) -> dict[str, int]:
        """Body-size limits by path prefix, from every domain."""
        limits: dict[str, int] = {}
        for domain in self.domains:
            if domain.body_limits is not None:
                limits.update(domain.body_limits(settings))
        return limits

    def sweeps(self, settings: Settings) -> list[Sweep]:
        """Every domain's retention jobs."""
        return [
            sweep for domain in self.domains if domain.sweeps is not None
            for sweep in domain.sweeps(settings)
        ]

    @property
    def service_factories(self) -> tuple[ServiceFactory, ...]:
        """Every domain's app services, in domain order (they start in this order)."""
        factories = tuple(f for domain in self.domains for f in domain.services)
        names = [factory.name for factory in factories]
        if len(set(names)) != len(names):
            raise ValueError(f"an app service name is used twice: {names}")
        return factories

    @property
    def topics(self) -> frozenset[str]:
        """Every topic a domain publishes."""
        return frozenset(topic for domain in self.domains for topic in domain.topics)

    @property
    def upgrades(self) -> tuple[Callable[[], Awaitable[None]], ...]:
        """Every domain's store upgrades, in domain order."""
        return tuple(upgrade for domain in self.domains for upgrade in domain.upgrades)

    @property
    def deferred_imports(self) -> tuple[str, ...]:
        """Every domain's deferred imports, in domain order."""
        return tuple(name for domain in self.domains for name in domain.deferred_imports)

    def add_commands(
        self, commands: argparse._SubParsersAction[argparse.ArgumentParser]
    ) -> None:
        """Add every domain's commands to the `arcos` command line."""
        for domain in self.domains:
            if domain.cli is not None:
                domain.cli(commands)

    def openapi_paths(
        self, operations: dict[str, PreparedOperation], schema: GraphQLSchema
    ) -> dict[str, dict[str, Any]]:
        """OpenAPI path items for the domains' own HTTP routes."""
        paths: dict[str, dict[str, Any]] = {}
        for domain in self.domains:
            if domain.openapi_paths is not None:
                paths.update(domain.openapi_paths(operations, schema))
        return paths

    def documentation(self) -> dict[str, Any]:
        """The documentation endpoint's sections from the domains, in domain order."""
        sections: dict[str, Any] = {}
        for domain in self.domains:
            if domain.documentation is not None:
                sections.update(domain.documentation())
        return sections

    @property
    def rest_documents(self) -> tuple[Traversable, ...]:
        """Every domain's REST operation documents."""
        return tuple(document for d in self.domains for document in d.rest_documents)
