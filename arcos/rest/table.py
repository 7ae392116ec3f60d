"""The REST adapter table's row type: method + path → a named GraphQL operation, how to
build its variables from the request, and how to shape its result. Each domain declares its
rows (its `rest.py`) and the documents they run (its `rest.graphql`) in its `Domain`
(arcos/registry.py); the table is every domain's rows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from arcos.rest.request import RestCall
from arcos.rest.shapes import Shape

VariableBuilder = Callable[[RestCall], Awaitable[dict[str, Any]]]
#: Stands for ARCOS_MAX_PAGE_SIZE in parameter schemas; the OpenAPI builder fills it in.
PAGE_CAP = "ARCOS_MAX_PAGE_SIZE"


@dataclass(frozen=True)
class QueryParameter:
    name: str
    description: str
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string", "minLength": 1})


@dataclass(frozen=True)
class RestRoute:
    method: str
    path: str
    operation: str
    variables: VariableBuilder
    result_path: tuple[str, ...]
    shape: Shape
    version: str
    summary: str
    subject: Callable[[RestCall], str] = lambda call: "such object"
    payload_path: tuple[str, ...] | None = None
    body_input: str | None = None
    query_parameters: tuple[QueryParameter, ...] = ()
    formats: bool = False
    legacy: bool = False
    #: Besides a JSON body: media types accepted as the raw artifact (OpenAPI lists them).
    raw_body_types: tuple[str, ...] = ()


#: Versions and their status, as the documentation endpoint and OpenAPI report them.
VERSIONS: dict[str, str] = {
    "v1": "stable", "v2": "stable", "v3": "beta", "legacy": "stable (original CIV-ARCOS API)"
}


async def no_variables(call: RestCall) -> dict[str, Any]:
    """For operations that take no variables."""
    return {}


FORMAT_PARAMETER = QueryParameter(
    "format", "json (default), ndjson or csv; `Accept` works too.",
    {"type": "string", "enum": ["json", "ndjson", "csv"]},
)
