"""GET /api/ecosystem/documentation: what this server offers, generated from the adapter
table, the OpenAPI document, the settings and the domains' own sections (Domain.documentation,
e.g. the webhook receivers), never maintained by hand."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from arcos.rest.table import VERSIONS, RestRoute
from arcos.settings import Settings


def ecosystem_documentation(
    routes: Sequence[RestRoute], openapi: dict[str, Any], settings: Settings,
    sections: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The document; `sections` (Registry.documentation) follow the REST section."""
    listed = [
        {
            "method": method.upper(),
            "path": path,
            "summary": item["summary"],
            "version": item["tags"][0],
            "status": VERSIONS[item["tags"][0]],
        }
        for path, methods in openapi["paths"].items()
        for method, item in methods.items()
    ]
    return {
        "name": "ARCOS",
        "version": openapi["info"]["version"],
        "graphql": {
            "endpoint": "/graphql",
            "alias": "/api/graphql",
            "ide": "/graphql (GraphiQL, open in a browser)" if settings.expose_schema else None,
            "subscriptions": {
                "url": "/graphql",
                "protocols": ["graphql-transport-ws", "graphql-ws"],
                "authentication": 'connection_init payload {"authorization": "Bearer <token>"}',
            },
            "schema": "/api/graphql/schema" if settings.expose_schema else None,
        },
        "rest": {
            "versions": [{"version": v, "status": s} for v, s in VERSIONS.items()],
            "routes": listed,
            "openapi": "/api/openapi.json",
            "operations": sorted({route.operation for route in routes}),
        },
        **(sections or {}),
        "authentication": {
            "scheme": "Authorization: Bearer <token>",
            "tokens": "arcos token create --name NAME --scope SCOPE",
        },
    }
