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
    """One REST route as a row: which GraphQL operation it runs and how HTTP maps onto it.

    The adapter builds the operation's variables from the request, runs it with the
    caller's token, and turns the result (or its errors) into the HTTP answer; OpenAPI and
    the documentation endpoint are generated from the same rows.
    """

    #: HTTP method and Starlette path pattern (`{id}` parameters reach `variables`).
    method: str
    path: str
    #: The name of an operation in the domain's `rest.graphql`.
    operation: str
    #: Builds the operation's variables from the request; raises RestRefusal (4xx).
    variables: VariableBuilder
    #: Where in `data` the value the route answers with sits, e.g. ("evidence",).
    result_path: tuple[str, ...]
    #: How that value becomes the response: status, body envelope, its OpenAPI schema.
    shape: Shape
    #: "v1", "v2", "v3" or "legacy" (sent as the API-Version header).
    version: str
    #: One line for OpenAPI and the documentation endpoint.
    summary: str
    #: What a 404 calls the missing object ("no evidence with id …").
    subject: Callable[[RestCall], str] = lambda call: "such object"
    #: For mutations: where the payload with `errors` is, so user errors become a 422/409.
    payload_path: tuple[str, ...] | None = None
    #: The GraphQL input type a JSON body is checked against (OpenAPI's request body).
    body_input: str | None = None
    #: The JSON body's schema when it is not a GraphQL input type, e.g. an original
    #: envelope such as `{"pattern": {…}, "permission": "community"}` (OpenAPI's request
    #: body; `body_example` is its example).
    body_schema: dict[str, Any] | None = None
    #: Whether the body names an object that may be missing (404), as a path parameter
    #: would (`{"benchmark_id": …}`); OpenAPI documents the 404 either way.
    body_names_object: bool = False
    #: The query-string parameters the route reads (`?first=`, `?industry=`), for OpenAPI
    #: and the documentation endpoint only: `variables` reads them from the request.
    query_parameters: tuple[QueryParameter, ...] = ()
    #: Whether the answer can also be NDJSON or CSV (`format=` or `Accept`).
    formats: bool = False
    #: The original CIV-ARCOS envelope (`{"success": …}`) for refusals.
    legacy: bool = False
    #: Besides a JSON body: media types accepted as the raw artifact (OpenAPI lists them).
    raw_body_types: tuple[str, ...] = ()
    #: OpenAPI's example request body (for `body_input` or `body_schema`).
    body_example: dict[str, Any] | None = None
    #: Fields of `body_input` the path supplies (`plugin` of /api/plugins/{plugin_id}/…):
    #: left out of the documented body.
    path_fields: tuple[str, ...] = ()


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
