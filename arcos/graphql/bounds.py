"""Refuse string arguments longer than the column they are compared with.

A filter value longer than its column can match nothing, and the ORM refuses it with a
ValidationError that used to surface as INTERNAL_SERVER_ERROR, its traceback logging the
whole value. Arguments and input fields declare their bound once, as `MAX_LENGTH`
metadata (`column_bound(Model, "column")`); this extension checks every argument of the
document, literal or variable, after validation and before any resolver runs, for every
transport (HTTP, websockets, REST and webhook adapters).

Finding the bounded arguments of a document takes a typed walk of it; that is done once
per cached document, so a request pays only for reading its few bounded values.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    GraphQLArgument,
    GraphQLError,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    visit,
)
from graphql.language.visitor import SKIP, VisitorAction
from graphql.utilities import value_from_ast_untyped
from strawberry.extensions import SchemaExtension

from arcos.graphql.core_schema import core_schema
from arcos.graphql.document_cache import cacheable, document_cache
from arcos.graphql.errors import ErrorCode
from arcos.graphql.metadata import MAX_LENGTH

#: Where strawberry keeps its own definition of a graphql-core argument or input field.
#: A copy of a string strawberry sets, with no public constant (see arcos/graphql/
#: core_schema.py for the internals ARCOS depends on).
STRAWBERRY_DEFINITION = "strawberry-definition"


class ArgumentBounds(SchemaExtension):
    """Adds a BAD_USER_INPUT error, naming the argument and its limit, for the first
    string longer than its bound; runs after validation, only on valid documents."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if not context.pre_execution_errors and document is not None:
            find = bounded_sites
            if cacheable(context):
                find = document_cache(context.schema).remembered(bounded_sites)
            sites = find(core_schema(context.schema), document)
            refusal = first_overlong_argument(sites, context.variables or {})
            if refusal is not None:
                context.pre_execution_errors = [refusal]
        yield


@dataclass(frozen=True)
class BoundedSite:
    """An argument in a document whose value (or part of it) has a length bound."""

    node: ArgumentNode
    definition: GraphQLArgument
    field_name: str


def bounded_sites(schema: GraphQLSchema, document: DocumentNode) -> tuple[BoundedSite, ...]:
    """Every argument of `document` whose type carries a bound somewhere."""
    type_info = TypeInfo(schema)
    finder = _SiteFinder(type_info)
    visit(document, TypeInfoVisitor(type_info, finder))
    return tuple(finder.sites)


def first_overlong_argument(
    sites: tuple[BoundedSite, ...], variables: Mapping[str, Any]
) -> GraphQLError | None:
    """The first value at `sites` (with `variables`) longer than its bound, if any."""
    values = dict(variables)
    for site in sites:
        value = value_from_ast_untyped(site.node.value, values)
        refusal = _check(value, site.definition, site.definition.type, site.node.name.value,
                         site)
        if refusal is not None:
            return refusal
    return None


class _SiteFinder(Visitor):
    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.field_name = ""
        self.sites: list[BoundedSite] = []

    def enter_field(self, node: FieldNode, *_: object) -> None:
        self.field_name = node.name.value

    def enter_argument(self, node: ArgumentNode, *_: object) -> VisitorAction:
        definition = self.type_info.get_argument()
        if definition is not None and _has_bound(definition, set()):
            self.sites.append(BoundedSite(node, definition, self.field_name))
        return SKIP


def _has_bound(definition: GraphQLArgument | GraphQLInputField, seen: set[str]) -> bool:
    if _max_length(definition) is not None:
        return True
    named = get_named_type(definition.type)
    if not isinstance(named, GraphQLInputObjectType) or named.name in seen:
        return False
    seen.add(named.name)
    return any(_has_bound(field, seen) for field in named.fields.values())


def _check(
    value: Any, definition: GraphQLArgument | GraphQLInputField,
    graphql_type: GraphQLInputType, path: str, site: BoundedSite,
) -> GraphQLError | None:
    if isinstance(graphql_type, GraphQLNonNull):
        graphql_type = graphql_type.of_type
    if isinstance(graphql_type, GraphQLList):
        for item in value if isinstance(value, list) else [value]:
            refusal = _check(item, definition, graphql_type.of_type, path, site)
            if refusal is not None:
                return refusal
        return None
    if isinstance(graphql_type, GraphQLInputObjectType) and isinstance(value, dict):
        for name, item in value.items():
            field = graphql_type.fields.get(name)
            if field is not None:
                refusal = _check(item, field, field.type, f"{path}.{name}", site)
                if refusal is not None:
                    return refusal
        return None
    limit = _max_length(definition)
    if limit is None or not isinstance(value, str) or len(value) <= limit:
        return None
    return GraphQLError(
        f"Argument `{path}` of `{site.field_name}` is {len(value)} characters long, over "
        f"its limit of {limit}: no stored value is that long.",
        site.node,
        extensions={"code": ErrorCode.BAD_USER_INPUT.value, "field": path},
    )


def _max_length(definition: GraphQLArgument | GraphQLInputField) -> int | None:
    strawberry_definition = (definition.extensions or {}).get(STRAWBERRY_DEFINITION)
    metadata = getattr(strawberry_definition, "metadata", None) or {}
    limit = metadata.get(MAX_LENGTH)
    return int(limit) if limit is not None else None
