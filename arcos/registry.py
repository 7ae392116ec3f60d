"""The one place a domain plugs in: what it adds to the store, the schema and REST.

Each domain folder declares one `Domain` in its `domain.py`; `arcos/domains.py` lists them.
The schema, the store's model list, node(id)'s scopes, the REST table and its GraphQL
documents are all read from that list, so adding a domain is one folder and one line.
DataLoaders need no entry: they register themselves per request (arcos/graphql/loaders.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from strawberry import relay

from arcos.auth.scopes import Scope

if TYPE_CHECKING:  # the registry itself loads no adapter: it only holds the domains' rows
    from importlib.resources.abc import Traversable

    from arcos.rest.table import RestRoute

RootType = Literal["query", "mutation", "subscription"]


@dataclass(frozen=True)
class NodeKind:
    """A stored object `node(id)` can return, and the scope a caller needs to read it."""

    type: type[relay.Node]
    scope: Scope

    @property
    def type_name(self) -> str:
        """The GraphQL name, as it appears in the type's global ids."""
        return self.type.__strawberry_definition__.name  # type: ignore[attr-defined]


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
    #: The Relay node types it owns, each with the scope node(id) requires for it.
    nodes: tuple[NodeKind, ...] = ()
    #: Its rows in the REST adapter table.
    rest_routes: tuple[RestRoute, ...] = ()
    #: The .graphql file holding the operations its REST rows and HTTP adapters run.
    rest_documents: Traversable | None = None

    def root_part(self, root: RootType) -> type | None:
        """The mixin this domain adds to the `root` type, if any."""
        part: type | None = getattr(self, root)
        return part


@dataclass(frozen=True, eq=False)
class Registry:
    """The domains a server runs, in schema order. Compared by identity, so the schema's
    root types can be built once per registry."""

    domains: tuple[Domain, ...]

    def __post_init__(self) -> None:
        names = [domain.name for domain in self.domains]
        if len(set(names)) != len(names):
            raise ValueError(f"a domain is registered twice: {names}")
        kinds = [kind.type_name for kind in self.node_kinds()]
        if len(set(kinds)) != len(kinds):
            raise ValueError(f"a node type is claimed by two domains: {kinds}")

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

    @property
    def rest_documents(self) -> tuple[Traversable, ...]:
        """Every domain's REST operation documents."""
        return tuple(d.rest_documents for d in self.domains if d.rest_documents is not None)
