"""Compile a valid query document into a direct executor, when its shape allows one.

A document compiles when its operation is a query whose one root field declares a
`DirectList` (arcos/graphql/direct.py) and selects only the item fields that list declares,
each without arguments or sub-selections, aliased or not, with `__typename`, and with
`@include`/`@skip` on item fields (evaluated per request, with the request's variables).
Fragments, root-level directives, other directives, permission-guarded item fields and
leaf types whose JSON encoding could differ (floats, custom scalars) do not compile: such
documents run the generic way.

A plan never answers anything but the generic path's success: every check whose failure
would be an error there (variable coercion, argument bounds, the root field's permission,
the resolver's own checks in `fetch`, a null in a non-null field, a value that does not
serialise) makes `DirectPlan.run` return None, and the caller runs the request the generic
way, which produces the error. So errors, their codes and their null semantics exist once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLSkipDirective,
    OperationDefinitionNode,
    OperationType,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values

from arcos.auth.caller import Caller
from arcos.graphql.bounds import STRAWBERRY_DEFINITION, BoundedSite, first_overlong_argument
from arcos.graphql.direct import DirectList
from arcos.graphql.metadata import DIRECT_LIST

#: Leaf types whose serialised values are str, int or bool, which every JSON encoder
#: writes alike (floats are not: `1e+16` against `1e16`).
PLAIN_SCALARS = frozenset({"String", "ID", "Int", "Boolean", "DateTime", "Date", "Time", "UUID"})
CONDITIONS = (GraphQLSkipDirective.name, GraphQLIncludeDirective.name)


class Unanswerable(Exception):
    """This request cannot be answered directly; run it the generic way."""


@dataclass(frozen=True)
class Leaf:
    """One item field of the response: its key, and how to produce its value from a row."""

    key: str
    #: Index of its column in the fetched rows; None for `__typename`.
    index: int | None
    #: Stored value to resolver value (None: the same).
    to_value: Callable[[Any], Any] | None
    serialize: Callable[[Any], Any]
    non_null: bool
    #: The item's type name, for `__typename`.
    constant: str | None = None
    #: The field node, when @include/@skip decide per request whether it is there.
    conditional: FieldNode | None = None


@dataclass(frozen=True)
class DirectPlan:
    """A compiled query: one root list field and its items' plain leaves."""

    schema: GraphQLSchema
    operation: OperationDefinitionNode
    root_key: str
    root_node: FieldNode
    root_field: GraphQLField
    direct: DirectList
    #: The permission classes of the root field; each has `check_caller(caller)`.
    permissions: tuple[Any, ...]
    columns: tuple[str, ...]
    #: Every selected leaf occurrence in document order (duplicates merged per request).
    leaves: tuple[Leaf, ...]

    async def run(
        self, context: Any, variables: Mapping[str, Any] | None,
        sites: tuple[BoundedSite, ...],
    ) -> dict[str, Any] | None:
        """The response value (`{"data": …}`), or None to run the generic way."""
        try:
            return await self._run(context, variables or {}, sites)
        except Unanswerable:
            return None

    async def _run(
        self, context: Any, variables: Mapping[str, Any], sites: tuple[BoundedSite, ...]
    ) -> dict[str, Any]:
        coerced = get_variable_values(
            self.schema, self.operation.variable_definitions or (), dict(variables)
        )
        if isinstance(coerced, list):
            raise Unanswerable
        if sites and first_overlong_argument(sites, variables) is not None:
            raise Unanswerable
        check_permissions(self.permissions, context.caller)
        try:
            arguments = get_argument_values(self.root_field, self.root_node, coerced)
            rows = await self.direct.fetch(context, arguments, self.columns)
        except Exception as refused:  # the generic path reports it
            raise Unanswerable from refused
        leaves = self._selected(coerced)
        return {"data": {self.root_key: [_item(row, leaves) for row in rows]}}

    def _selected(self, coerced: VariableValues) -> tuple[Leaf, ...]:
        """The leaves this request's variables keep, first occurrence of each key."""
        chosen: dict[str, Leaf] = {}
        for leaf in self.leaves:
            if leaf.key in chosen:
                continue
            if leaf.conditional is not None and not _included(leaf.conditional, coerced):
                continue
            chosen[leaf.key] = leaf
        return tuple(chosen.values())


def check_permissions(permissions: tuple[Any, ...], caller: Caller) -> None:
    """Raise Unanswerable unless `caller` passes every permission (the generic path then
    refuses it with its own error)."""
    for permission in permissions:
        try:
            permission.check_caller(caller)
        except Exception as refused:
            raise Unanswerable from refused


def _item(row: Any, leaves: tuple[Leaf, ...]) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for leaf in leaves:
        if leaf.constant is not None:
            item[leaf.key] = leaf.constant
            continue
        value = row[leaf.index]
        if value is None:
            if leaf.non_null:
                raise Unanswerable
            item[leaf.key] = None
            continue
        try:
            if leaf.to_value is not None:
                value = leaf.to_value(value)
            serialized = leaf.serialize(value)
        except Exception as refused:
            raise Unanswerable from refused
        if serialized is None:
            raise Unanswerable
        item[leaf.key] = serialized
    return item


def _included(node: FieldNode, coerced: VariableValues) -> bool:
    for directive in node.directives or ():
        definition = (
            GraphQLSkipDirective if directive.name.value == GraphQLSkipDirective.name
            else GraphQLIncludeDirective
        )
        try:
            value = get_argument_values(definition, directive, coerced)["if"]
        except Exception as refused:
            raise Unanswerable from refused
        if value is (definition is GraphQLSkipDirective):
            return False
    return True


def compile_plan(
    schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode
) -> DirectPlan | None:
    """A direct plan for `operation` of a valid `document`, or None when its shape has none.
    `document` must have passed validation (names, types and arguments are trusted)."""
    if operation.operation is not OperationType.QUERY or operation.directives:
        return None
    selections = operation.selection_set.selections
    if len(selections) != 1 or not isinstance(selections[0], FieldNode):
        return None
    root_node = selections[0]
    query_type = schema.query_type
    if query_type is None or root_node.directives or root_node.selection_set is None:
        return None
    root_field = query_type.fields.get(root_node.name.value)
    if root_field is None:
        return None
    definition = (root_field.extensions or {}).get(STRAWBERRY_DEFINITION)
    direct = (getattr(definition, "metadata", None) or {}).get(DIRECT_LIST)
    if not isinstance(direct, DirectList):
        return None
    permissions = tuple(getattr(definition, "permission_classes", None) or ())
    if not all(_plain_permission(permission) for permission in permissions):
        return None
    item_type = _list_item(root_field.type)
    if item_type is None:
        return None
    columns: list[str] = []
    leaves: list[Leaf] = []
    for selection in root_node.selection_set.selections:
        if not isinstance(selection, FieldNode):
            return None  # fragments run the generic way
        leaf = _leaf(selection, item_type, direct, columns)
        if leaf is None:
            return None
        leaves.append(leaf)
    return DirectPlan(
        schema=schema, operation=operation,
        root_key=(root_node.alias or root_node.name).value, root_node=root_node,
        root_field=root_field, direct=direct, permissions=permissions,
        columns=tuple(columns), leaves=tuple(leaves),
    )


def _plain_permission(permission: Any) -> bool:
    """A permission the plan can check itself: a scope check without I/O that spends no
    write allowance (those are checked per field, the generic way)."""
    if not hasattr(permission, "check_caller"):
        return False
    scopes = getattr(permission, "scopes", None) or (getattr(permission, "scope", None),)
    return all(scope is not None and not scope.counts_as_write for scope in scopes)


def _list_item(field_type: GraphQLOutputType) -> GraphQLObjectType | None:
    """The object type of a list field's items (a row is never null: it is built here)."""
    if isinstance(field_type, GraphQLNonNull):
        field_type = field_type.of_type
    if not isinstance(field_type, GraphQLList):
        return None
    item = field_type.of_type
    if isinstance(item, GraphQLNonNull):
        item = item.of_type
    return item if isinstance(item, GraphQLObjectType) else None


def _leaf(
    node: FieldNode, item_type: GraphQLObjectType, direct: DirectList, columns: list[str]
) -> Leaf | None:
    if node.arguments or node.selection_set is not None:
        return None
    if any(directive.name.value not in CONDITIONS for directive in node.directives or ()):
        return None
    conditional = node if node.directives else None
    key = (node.alias or node.name).value
    name = node.name.value
    if name == "__typename":
        return Leaf(key, None, None, str, True, constant=item_type.name, conditional=conditional)
    column = direct.fields.get(name)
    field = item_type.fields.get(name)
    if column is None or field is None:
        return None
    definition = (field.extensions or {}).get(STRAWBERRY_DEFINITION)
    if getattr(definition, "permission_classes", None):
        return None  # guarded item fields are checked the generic way
    field_type = field.type
    non_null = isinstance(field_type, GraphQLNonNull)
    if non_null:
        field_type = field_type.of_type  # type: ignore[union-attr]
    if not isinstance(field_type, GraphQLScalarType) or field_type.name not in PLAIN_SCALARS:
        return None
    if column.column not in columns:
        columns.append(column.column)
    return Leaf(
        key, columns.index(column.column), column.to_value, field_type.serialize, non_null,
        conditional=conditional,
    )
