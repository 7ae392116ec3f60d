"""The Starlette routes of the REST surface, built from the adapter table (every
registered domain's rows)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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


def rest_routes(
    adapter: RestAdapter, graphql_app: Any, table: Sequence[RestRoute]
) -> list[BaseRoute]:
    """Every REST route: the table's rows, OpenAPI, schema and docs."""
    schema = adapter.schema
    openapi = openapi_document(
        table, adapter.operations, core_schema(schema), adapter.settings.max_page_size
    )
    documentation = ecosystem_documentation(table, openapi, adapter.settings)
    sdl = schema.as_str() + "\n"

    async def openapi_json(request: Request) -> Response:
        return JSONResponse(openapi)

    async def ecosystem(request: Request) -> Response:
        return JSONResponse(documentation)

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
        return PlainTextResponse(sdl, media_type="application/graphql")

    routes: list[BaseRoute] = [
        Route(route.path, adapter.endpoint(route), methods=[route.method]) for route in table
    ]
    routes += [
        Route("/api/openapi.json", openapi_json, methods=["GET"]),
        Route("/api/ecosystem/documentation", ecosystem, methods=["GET"]),
        Route("/api/graphql/schema", graphql_schema, methods=["GET"]),
        Route("/api/graphql", graphql_app, methods=["GET", "POST"]),
    ]
    return routes
