"""How a route turns the value its operation selected into a response body.

Each shape also describes that body as JSON Schema, given the schema of the selected value,
so the OpenAPI document is derived from the same code that builds responses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from arcos.web.refusal import RestRefusal

JsonSchema = dict[str, Any]


class Shape(Protocol):
    status: int

    def body(self, value: Any, subject: str) -> Any:
        """The response body for `value`; `subject` names what was asked for (404s)."""

    def schema(self, value_schema: JsonSchema) -> JsonSchema:
        """JSON Schema of `body(...)` when the value matches `value_schema`."""

    @property
    def items_key(self) -> str | None:
        """Where a list of records sits in the body (for ndjson/csv), None for one record."""


def _required(value: Any, subject: str) -> Any:
    if value is None:
        raise RestRefusal(404, f"no {subject}", "NOT_FOUND")
    return value


@dataclass(frozen=True)
class Item:
    """One object as it is; 404 when the operation found none."""

    status: int = 200
    items_key: str | None = None

    def body(self, value: Any, subject: str) -> Any:
        return _required(value, subject)

    def schema(self, value_schema: JsonSchema) -> JsonSchema:
        return non_null(value_schema)


@dataclass(frozen=True)
class Batch:
    """Stored items of a batch: `{"ids": [...], key: [...]}`, e.g. `key="evidence"`."""

    key: str
    status: int = 201

    @property
    def items_key(self) -> str:
        return self.key

    def body(self, value: Any, subject: str) -> Any:
        return {"ids": [item["id"] for item in value], self.key: value}

    def schema(self, value_schema: JsonSchema) -> JsonSchema:
        return object_schema({"ids": {"type": "array", "items": {"type": "string"}},
                        self.key: value_schema})


@dataclass(frozen=True)
class Page:
    """A connection page: `{"items", "totalCount", "nextCursor"}`."""

    status: int = 200
    items_key: str | None = "items"

    def body(self, value: Any, subject: str) -> Any:
        info = _required(value, subject)["pageInfo"]
        return {
            "items": value["nodes"],
            "totalCount": value["totalCount"],
            "nextCursor": info["endCursor"] if info["hasNextPage"] else None,
        }

    def schema(self, value_schema: JsonSchema) -> JsonSchema:
        return object_schema({
            "items": value_schema["properties"]["nodes"],
            "totalCount": {"type": "integer"},
            "nextCursor": {"type": ["string", "null"]},
        })


@dataclass(frozen=True)
class Legacy:
    """The original CIV-ARCOS envelope: `{"success": true, <key>: value, …extras}`."""

    key: str
    status: int = 200
    count: bool = False
    ids_key: str | None = None
    items_key: str | None = None

    def body(self, value: Any, subject: str) -> Any:
        body: dict[str, Any] = {"success": True, self.key: _required(value, subject)}
        if self.count:
            body["count"] = len(value)
        if self.ids_key:
            body[self.ids_key] = (
                [item["id"] for item in value] if isinstance(value, list) else value["id"]
            )
        return body

    def schema(self, value_schema: JsonSchema) -> JsonSchema:
        value_schema = non_null(value_schema)
        properties: dict[str, JsonSchema] = {"success": {"const": True}, self.key: value_schema}
        if self.count:
            properties["count"] = {"type": "integer"}
        if self.ids_key:
            properties[self.ids_key] = (
                {"type": "array", "items": {"type": "string"}}
                if value_schema.get("type") == "array" else {"type": "string"}
            )
        return object_schema(properties)


@dataclass(frozen=True)
class Document:
    """A document in its own media type (YAML, SVG, …): the value is `{"mediaType",
    "content"}` and the response is `content` served as `mediaType`, not JSON."""

    #: The media types it may answer in, for OpenAPI.
    media_types: tuple[str, ...] = ("application/json",)
    status: int = 200
    items_key: str | None = None
    raw: bool = True

    def body(self, value: Any, subject: str) -> Any:
        return _required(value, subject)

    def schema(self, value_schema: JsonSchema) -> JsonSchema:
        return {"type": "string", "description": "The document in the media type asked for."}


def non_null(schema: JsonSchema) -> JsonSchema:
    """The schema without its `null` alternative: shapes answer 404 instead of null."""
    if "anyOf" in schema:
        return next(option for option in schema["anyOf"] if option != {"type": "null"})
    kind = schema.get("type")
    if isinstance(kind, list):
        remaining = [k for k in kind if k != "null"]
        return {**schema, "type": remaining[0] if len(remaining) == 1 else remaining}
    return schema


def object_schema(properties: dict[str, JsonSchema]) -> JsonSchema:
    """An object with exactly these properties, every one required."""
    return {"type": "object", "properties": properties, "required": sorted(properties)}
