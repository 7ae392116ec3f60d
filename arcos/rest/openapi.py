"""The OpenAPI 3.1 document, generated from the adapter table and the schema.

Request bodies are the JSON Schema of the GraphQL input type a route takes; responses are
the JSON Schema of exactly what the route's operation selects, passed through the route's
shape. Nothing here is written by hand per route, so the document cannot drift.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.pyutils import Undefined

from arcos import __version__
from arcos.graphql.metadata import JSON_SCHEMA
from arcos.rest.operations import PreparedOperation
from arcos.rest.shapes import JsonSchema, non_null
from arcos.rest.table import PAGE_CAP, VERSIONS, RestRoute

SCALARS: dict[str, JsonSchema] = {
    "String": {"type": "string"},
    "ID": {"type": "string"},
    "Int": {"type": "integer"},
    "Float": {"type": "number"},
    "Boolean": {"type": "boolean"},
    "DateTime": {"type": "string", "format": "date-time"},
    "JSON": {"type": "object", "description": "A JSON object."},
}
ERROR_SCHEMA: JsonSchema = {
    "type": "object",
    "required": ["errors"],
    "properties": {
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["message"],
                "properties": {
                    "message": {"type": "string"},
                    "extensions": {
                        "type": "object",
                        "properties": {
                            "code": {"type": "string"},
                            "field": {"type": ["string", "null"]},
                        },
                    },
                },
            },
        },
        "success": {"const": False},
        "error": {"type": "string"},
    },
}
ERROR_STATUSES = {
    "400": "Malformed request: bad JSON, parameter or id.",
    "401": "Missing or invalid bearer token.",
    "403": "The token lacks the scope this route needs.",
    "413": "Request body over ARCOS_MAX_BODY_BYTES.",
    "415": "Body is not application/json.",
    "429": "Write rate limit reached; see Retry-After.",
}
def openapi_document(
    routes: Sequence[RestRoute],
    operations: dict[str, PreparedOperation],
    schema: GraphQLSchema,
    max_page_size: int,
    other_paths: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The OpenAPI document of the table's `routes`, followed by `other_paths`: the path
    items the domains give for their own HTTP routes (Registry.openapi_paths)."""
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        operation = operations[route.operation]
        paths.setdefault(route.path, {})[route.method.lower()] = _path_item(
            route, operation, schema, max_page_size
        )
    paths.update(other_paths or {})
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ARCOS REST API",
            "version": __version__,
            "description": "REST adapters over the ARCOS GraphQL schema. Every route runs a "
            "named GraphQL operation; POST /graphql offers the full API.",
        },
        "servers": [{"url": "/"}],
        "tags": [{"name": version, "description": status} for version, status in VERSIONS.items()],
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "arcos_…"}
            },
            "schemas": {"Error": ERROR_SCHEMA},
        },
        "security": [{"bearer": []}],
        "paths": paths,
    }


def _path_item(
    route: RestRoute, operation: PreparedOperation, schema: GraphQLSchema, max_page_size: int
) -> dict[str, Any]:
    selected = _selection_schema(operation, schema)
    value_schema = _at(selected, route.result_path)
    responses: dict[str, Any] = {
        str(route.shape.status): {
            "description": "Success.",
            "content": _content(route.shape.schema(value_schema), route.formats,
                                getattr(route.shape, "media_types", ())),
        },
    }
    if route.method == "POST":
        responses["422"] = error_response("Input refused; each error names its field.")
    if route.payload_path is not None:
        responses["409"] = error_response(
            "An idempotency key was already used for different content."
        )
    if "{" in route.path or route.body_names_object:
        responses["404"] = error_response("No such object.")
    for status, description in ERROR_STATUSES.items():
        responses[status] = error_response(description)
    item: dict[str, Any] = {
        "operationId": _operation_id(route),
        "summary": route.summary,
        "tags": [route.version],
        "parameters": [
            *({"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
              for name in re.findall(r"{(\w+)}", route.path)),
            *({"name": p.name, "in": "query", "required": False, "description": p.description,
               "schema": {k: max_page_size if v == PAGE_CAP else v for k, v in p.schema.items()}}
              for p in route.query_parameters),
        ],
        "responses": responses,
        "description": f"Runs the GraphQL operation `{operation.name}`.",
    }
    if route.body_input is not None:
        input_type = schema.get_type(route.body_input)
        assert isinstance(input_type, GraphQLInputObjectType)
        body_schema = _without(input_object_schema(input_type), route.path_fields)
        described: dict[str, Any] = {"schema": body_schema}
        if route.body_example is not None:
            described["example"] = route.body_example
        content: dict[str, Any] = {"application/json": described}
        for media_type in route.raw_body_types:
            content[media_type] = {"schema": {"type": "string", "format": "binary"}}
        item["requestBody"] = {"required": True, "content": content}
    elif route.body_schema is not None:
        described = {"schema": route.body_schema}
        if route.body_example is not None:
            described["example"] = route.body_example
        content = {"application/json": described}
        for media_type in route.raw_body_types:
            content[media_type] = {"schema": {"type": "string"}}
        item["requestBody"] = {"required": True, "content": content}
    return item


def _without(schema: JsonSchema, names: tuple[str, ...]) -> JsonSchema:
    """An object schema without the properties `names`."""
    if not names:
        return schema
    return {
        **schema,
        "properties": {k: v for k, v in schema["properties"].items() if k not in names},
        "required": [name for name in schema.get("required", []) if name not in names],
    }


def _operation_id(route: RestRoute) -> str:
    words = re.sub(r"[{}]", "", route.path).strip("/").replace("/", "_").replace("-", "_")
    return f"{route.method.lower()}_{words}"


def _content(schema: JsonSchema, formats: bool,
             media_types: Sequence[str] = ()) -> dict[str, Any]:
    if media_types:  # a Document: the body is the document itself, in one of these
        # JSON and YAML parse to structured values (whatever the document holds); the
        # others are text.
        return {media_type: {} if media_type.endswith(("json", "yaml")) else {"schema": schema}
                for media_type in media_types}
    content: dict[str, Any] = {"application/json": {"schema": schema}}
    if formats:
        content["application/x-ndjson"] = {"schema": {"type": "string"}}
        content["text/csv"] = {"schema": {"type": "string"}}
    return content


def error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _at(schema: JsonSchema, path: tuple[str, ...]) -> JsonSchema:
    for key in path:
        schema = non_null(schema)["properties"][key]
    return schema


def input_object_schema(input_type: GraphQLInputObjectType) -> JsonSchema:
    """JSON Schema of a GraphQL input object: required for non-null fields, no extras."""
    properties = {}
    required = []
    for name, field in input_type.fields.items():
        properties[name] = _with_constraints(_input_schema(field.type), field)
        if field.description:
            properties[name] = {**properties[name], "description": field.description}
        if isinstance(field.type, GraphQLNonNull) and field.default_value is Undefined:
            required.append(name)
    return {"type": "object", "properties": properties, "required": required,
            "additionalProperties": False}


def _with_constraints(schema: JsonSchema, field: GraphQLInputField) -> JsonSchema:
    """Add the constraints a strawberry field declares under `metadata[JSON_SCHEMA]`."""
    definition = (field.extensions or {}).get("strawberry-definition")
    constraints = getattr(definition, "metadata", {}).get(JSON_SCHEMA)
    if not constraints:
        return schema
    if "anyOf" in schema:
        return {"anyOf": [{**schema["anyOf"][0], **constraints}, *schema["anyOf"][1:]]}
    return {**schema, **constraints}


def _input_schema(graphql_type: GraphQLInputType) -> JsonSchema:
    if isinstance(graphql_type, GraphQLNonNull):
        return _input_schema_non_null(graphql_type.of_type)
    return _nullable(_input_schema_non_null(graphql_type))


def _input_schema_non_null(graphql_type: GraphQLInputType) -> JsonSchema:
    if isinstance(graphql_type, GraphQLList):
        return {"type": "array", "items": _input_schema(graphql_type.of_type)}
    if isinstance(graphql_type, GraphQLInputObjectType):
        return input_object_schema(graphql_type)
    return _leaf(graphql_type)


def _leaf(graphql_type: Any) -> JsonSchema:
    if isinstance(graphql_type, GraphQLEnumType):
        return {"type": "string", "enum": list(graphql_type.values)}
    if isinstance(graphql_type, GraphQLScalarType):
        return dict(SCALARS.get(graphql_type.name, {}))
    raise TypeError(f"no JSON Schema for {graphql_type}")


def _nullable(schema: JsonSchema) -> JsonSchema:
    kind = schema.get("type")
    if isinstance(kind, str) and kind != "object" and "enum" not in schema:
        return {**schema, "type": [kind, "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def _selection_schema(operation: PreparedOperation, schema: GraphQLSchema) -> JsonSchema:
    fragments = {
        d.name.value: d for d in operation.document.definitions
        if isinstance(d, FragmentDefinitionNode)
    }
    definition = next(
        d for d in operation.document.definitions if isinstance(d, OperationDefinitionNode)
    )
    root = schema.get_root_type(definition.operation)
    assert root is not None
    return _object_selection(definition.selection_set, root, fragments)


def _object_selection(
    selection_set: SelectionSetNode,
    parent: GraphQLObjectType,
    fragments: dict[str, FragmentDefinitionNode],
) -> JsonSchema:
    properties: dict[str, JsonSchema] = {}
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            name = selection.alias.value if selection.alias else selection.name.value
            field = parent.fields[selection.name.value]
            properties[name] = _output(field.type, selection.selection_set, fragments)
        elif isinstance(selection, FragmentSpreadNode):
            nested = _object_selection(fragments[selection.name.value].selection_set, parent,
                                       fragments)
            properties.update(nested["properties"])
        elif isinstance(selection, InlineFragmentNode):
            properties.update(
                _object_selection(selection.selection_set, parent, fragments)["properties"]
            )
    return {"type": "object", "properties": properties, "required": sorted(properties)}


def _output(
    graphql_type: GraphQLOutputType,
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
) -> JsonSchema:
    if isinstance(graphql_type, GraphQLNonNull):
        return _output_non_null(graphql_type.of_type, selection_set, fragments)
    return _nullable(_output_non_null(graphql_type, selection_set, fragments))


def _output_non_null(
    graphql_type: Any,
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
) -> JsonSchema:
    if isinstance(graphql_type, GraphQLList):
        return {"type": "array", "items": _output(graphql_type.of_type, selection_set, fragments)}
    if isinstance(graphql_type, GraphQLObjectType):
        assert selection_set is not None
        return _object_selection(selection_set, graphql_type, fragments)
    return _leaf(graphql_type)
