"""`node(id)`: any stored object by its global id, read with the scope its type declares.

Each domain names the scope that reads each of its node types (arcos/registry.py); a
caller holding `plugins:read` alone reads a plugin's node and is refused an evidence node.
A schema with a Node type no domain gives a scope is refused when it is built
(`check_node_scopes`), so no stored kind is ever read under another kind's scope.
"""

from collections.abc import Mapping
from typing import Any

import strawberry
from graphql import GraphQLObjectType, GraphQLSchema
from strawberry import relay
from strawberry.permission import BasePermission
from strawberry.types import Info

from arcos.auth.permissions import requires, requires_any
from arcos.auth.scopes import Scope


class UndeclaredNodeType(TypeError):
    """The schema has a Node type whose domain declares no read scope for it."""


def check_node_scopes(schema: GraphQLSchema, scopes: Mapping[str, Scope]) -> None:
    """Refuse `schema` if any of its object types implementing Node has no entry in
    `scopes` (Domain.nodes), naming each such type."""
    undeclared = sorted(
        name for name, kind in schema.type_map.items()
        if isinstance(kind, GraphQLObjectType)
        and any(interface.name == "Node" for interface in kind.interfaces)
        and name not in scopes
    )
    if undeclared:
        raise UndeclaredNodeType(
            f"node(id) has no read scope for the Node type(s) {', '.join(undeclared)}: "
            "declare each in its domain's `nodes` (NodeKind(type, scope), arcos/registry.py)"
        )


class NodeScopePermission(BasePermission):
    """Requires the scope of the id's type. Every Node type of the schema has one
    (`check_node_scopes`); an id naming a type the schema lacks resolves to an error or
    null, and only a caller holding some scope that reads a node type learns so."""

    scopes: Mapping[str, Scope]

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        global_id = kwargs.get("id")
        type_name = global_id.type_name if isinstance(global_id, relay.GlobalID) else None
        scope = self.scopes.get(type_name or "")
        permission = (
            requires(scope) if scope is not None
            else requires_any(*sorted(set(self.scopes.values())))
        )
        return await permission().has_permission(source, info, **kwargs)


def node_query(scopes: Mapping[str, Scope]) -> type:
    """The Query mixin with `node(id)`, checking `scopes` (GraphQL type name → scope).

    A resolver rather than relay.node(): that field object cannot be shared by the several
    schemas (different limits) one process may build.
    """
    permission = type("NodeScopes", (NodeScopePermission,), {"scopes": dict(scopes)})

    @strawberry.type
    class NodeQuery:
        @strawberry.field(
            description="Any stored object by its global id; null when there is none.",
            permission_classes=[permission],
        )
        async def node(self, info: Info, id: relay.GlobalID) -> relay.Node | None:
            return await id.resolve_node(info, required=False)

    return NodeQuery
