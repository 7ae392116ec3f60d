"""Refuse string arguments longer than the column they are compared with.

A filter value longer than its column can match nothing, and the ORM refuses it with a
ValidationError that used to surface as INTERNAL_SERVER_ERROR, its traceback logging the
whole value. Arguments and input fields declare their bound once, as `MAX_LENGTH`
metadata (`column_bound(Model, "column")`); this extension checks every argument of the
document, literal or variable, after validation and before any resolver runs, for every
transport (HTTP, websockets, REST and webhook adapters).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
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
    visit,
)
from graphql.language.visitor import SKIP, VisitorAction
from graphql.utilities import value_from_ast_untyped
from strawberry.extensions import SchemaExtension

from arcos.graphql.errors import ErrorCode
from arcos.graphql.metadata import MAX_LENGTH

#: Where strawberry keeps its own definition of a graphql-core argument or input field.
STRAWBERRY_DEFINITION = "strawberry-definition"


class ArgumentBounds(SchemaExtension):
    """Adds a BAD_USER_INPUT error, naming the argument and its limit, for the first
    string longer than its bound; runs after validation, only on valid documents."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if not context.pre_execution_errors and context.graphql_document is not None:
            refusal = first_overlong_argument(
                context.schema._schema, context.graphql_document, context.variables or {}
            )
            if refusal is not None:
                context.pre_execution_errors = [refusal]
        yield


def first_overlong_argument(
    schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any]
) -> GraphQLError | None:
    """The first argument value in `document` (with `variables`) over its bound, if any."""
    type_info = TypeInfo(schema)
    checker = _Checker(type_info, variables)
    visit(document, TypeInfoVisitor(type_info, checker))
    return checker.refusal


class _Checker(Visitor):
    def __init__(self, type_info: TypeInfo, variables: Mapping[str, Any]) -> None:
        super().__init__()
        self.type_info = type_info
        self.variables = dict(variables)
        self.field_name = ""
        self.refusal: GraphQLError | None = None

    def enter_field(self, node: FieldNode, *_: object) -> None:
        self.field_name = node.name.value

    def enter_argument(self, node: ArgumentNode, *_: object) -> VisitorAction:
        definition = self.type_info.get_argument()
        if definition is not None and self.refusal is None:
            value = value_from_ast_untyped(node.value, self.variables)
            self.refusal = self._check(value, definition, definition.type, node.name.value, node)
        return SKIP

    def _check(
        self, value: Any, definition: GraphQLArgument | GraphQLInputField,
        graphql_type: GraphQLInputType, path: str, node: ArgumentNode,
    ) -> GraphQLError | None:
        if isinstance(graphql_type, GraphQLNonNull):
            graphql_type = graphql_type.of_type
        if isinstance(graphql_type, GraphQLList):
            items = value if isinstance(value, list) else [value]
            for item in items:
                refusal = self._check(item, definition, graphql_type.of_type, path, node)
                if refusal is not None:
                    return refusal
            return None
        if isinstance(graphql_type, GraphQLInputObjectType) and isinstance(value, dict):
            for name, item in value.items():
                field = graphql_type.fields.get(name)
                if field is not None:
                    refusal = self._check(item, field, field.type, f"{path}.{name}", node)
                    if refusal is not None:
                        return refusal
            return None
        limit = _max_length(definition)
        if limit is None or not isinstance(value, str) or len(value) <= limit:
            return None
        return GraphQLError(
            f"Argument `{path}` of `{self.field_name}` is {len(value)} characters long, over "
            f"its limit of {limit}: no stored value is that long.",
            node,
            extensions={"code": ErrorCode.BAD_USER_INPUT.value, "field": path},
        )


def _max_length(definition: GraphQLArgument | GraphQLInputField) -> int | None:
    strawberry_definition = (definition.extensions or {}).get(STRAWBERRY_DEFINITION)
    metadata = getattr(strawberry_definition, "metadata", None) or {}
    limit = metadata.get(MAX_LENGTH)
    return int(limit) if limit is not None else None
