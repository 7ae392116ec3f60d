"""The Starlette routes of the REST surface, built from the adapter table (every
registered domain's rows)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from graphql import get_introspection_query, graphql_sync
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from arcos.graphql.core_schema import core_schema
from arcos.rest.adapter import RestAdapter, refusal_response
from arcos.rest.documentation import ecosystem_documentation
from arcos.rest.openapi import openapi_document
from arcos.rest.table import RestRoute
from arcos.web.refusal import RestRefusal

if TYPE_CHECKING:
    from arcos.registry import Registry

Endpoint = Callable[[Request], Awaitable[Response]]


def _endpoints_by_path(
    adapter: RestAdapter, table: Sequence[RestRoute]
) -> dict[str, dict[str, Endpoint]]:
    """The table's endpoints grouped by path, in table order: one Starlette route per path,
    so a 405 lists every method the path has (`Allow`), not only the first row's."""
    grouped: dict[str, dict[str, Endpoint]] = {}
    for route in table:
        grouped.setdefault(route.path, {})[route.method] = adapter.endpoint(route)
    return grouped


def _by_method(endpoints: dict[str, Endpoint]) -> Endpoint:
    if len(endpoints) == 1:
        return next(iter(endpoints.values()))

    async def dispatch(request: Request) -> Response:
        # Starlette routes HEAD wherever GET is; it is answered as a GET (without a body).
        method = "GET" if request.method == "HEAD" else request.method
        return await endpoints[method](request)

    return dispatch


def rest_routes(adapter: RestAdapter, graphql_app: Any, registry: Registry) -> list[BaseRoute]:
    """Every REST route: the `registry`'s table rows, OpenAPI, schema and docs.

    The OpenAPI document, the documentation and the SDL are built when first asked for,
    not with the app: no start-up step needs them, and together they were about a fifth
    of building the app (tests/benchmarks/bench_cold_start.py)."""
    schema = adapter.schema
    table = registry.rest_routes

    @cache
    def openapi() -> dict[str, Any]:
        graphql_schema_core = core_schema(schema)
        return openapi_document(
            table, adapter.operations, graphql_schema_core, adapter.settings.max_page_size,
            registry.openapi_paths(adapter.operations, graphql_schema_core),
        )

    @cache
    def documentation() -> dict[str, Any]:
        return ecosystem_documentation(
            table, openapi(), adapter.settings, registry.documentation()
        )

    @cache
    def sdl() -> str:
        return schema.as_str() + "\n"

    async def openapi_json(request: Request) -> Response:
        return JSONResponse(openapi())

    async def ecosystem(request: Request) -> Response:
        return JSONResponse(documentation())

    async def graphql_schema(request: Request) -> Response:
        if not adapter.settings.expose_schema:
            return refusal_response(RestRefusal(
                404, "the schema is not published here (ARCOS_EXPOSE_SCHEMA=false)", "NOT_FOUND"
            ))
        wanted = request.query_params.get("format", "sdl").lower()
        if wanted == "json":
            result = graphql_sync(core_schema(schema), get_introspection_query(descriptions=True))
            return JSONResponse({"data": result.data})
        if wanted != "sdl":
            return refusal_response(RestRefusal(400, "format must be sdl or json", "BAD_REQUEST"))
        return PlainTextResponse(sdl(), media_type="application/graphql")

    routes: list[BaseRoute] = [
        Route(path, _by_method(endpoints), methods=list(endpoints))
        for path, endpoints in _endpoints_by_path(adapter, table).items()
    ]
    routes += [
        Route("/api/openapi.json", openapi_json, methods=["GET"]),
        Route("/api/ecosystem/documentation", ecosystem, methods=["GET"]),
        Route("/api/graphql/schema", graphql_schema, methods=["GET"]),
        Route("/api/graphql", graphql_app, methods=["GET", "POST"]),
    ]
    return routes
