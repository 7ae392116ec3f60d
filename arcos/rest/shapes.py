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
    """Stored items of a batch: `{"ids": [...], "evidence": [...]}`."""

    status: int = 201
    items_key: str | None = "evidence"

    def body(self, value: Any, subject: str) -> Any:
        return {"ids": [item["id"] for item in value], "evidence": value}

    def schema(self, value_schema: JsonSchema) -> JsonSchema:
        return _object({"ids": {"type": "array", "items": {"type": "string"}},
                        "evidence": value_schema})


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
        return _object({
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
        return _object(properties)


@dataclass(frozen=True)
class Upload:
    """An artifact upload, in the original API's envelope. The operation may pick one of
    several mutations (`@include`), so the payload is whichever root field answered.
    Refusals carry the job id too: `/api/cicd/status/{job_id}` knows about every upload."""

    status: int = 201
    items_key: str | None = None

    def body(self, value: Any, subject: str) -> Any:
        payload = next(item for item in value.values() if item is not None)
        errors = payload["errors"]
        if errors:
            too_large = any(error["code"] == "TOO_LARGE" for error in errors)
            raise RestRefusal(
                413 if too_large else 422, errors[0]["message"],
                "PAYLOAD_TOO_LARGE" if too_large else "UNPROCESSABLE_ENTITY",
                details=[{"message": e["message"],
                          "extensions": {"code": e["code"], "field": e["field"]}}
                         for e in errors],
                extra={"job_id": payload["jobId"]},
            )
        evidence = payload["evidence"]
        return {
            "success": True,
            "job_id": payload["jobId"],
            "evidence_id": evidence["id"] if evidence else None,
            "evidence": evidence,
            "metrics": payload["metrics"],
            "findings": payload["findings"],
            "warnings": payload["warnings"],
        }

    def schema(self, value_schema: JsonSchema) -> JsonSchema:
        payload = non_null(next(iter(value_schema["properties"].values())))
        properties = payload["properties"]
        return _object({
            "success": {"const": True},
            "job_id": properties["jobId"],
            "evidence_id": {"type": ["string", "null"]},
            "evidence": properties["evidence"],
            "metrics": properties["metrics"],
            "findings": properties["findings"],
            "warnings": properties["warnings"],
        })


def non_null(schema: JsonSchema) -> JsonSchema:
    """The schema without its `null` alternative: shapes answer 404 instead of null."""
    if "anyOf" in schema:
        return next(option for option in schema["anyOf"] if option != {"type": "null"})
    kind = schema.get("type")
    if isinstance(kind, list):
        remaining = [k for k in kind if k != "null"]
        return {**schema, "type": remaining[0] if len(remaining) == 1 else remaining}
    return schema


def _object(properties: dict[str, JsonSchema]) -> JsonSchema:
    return {"type": "object", "properties": properties, "required": sorted(properties)}
