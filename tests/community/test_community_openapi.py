"""The community's REST rows in OpenAPI: every original route is there, and every POST
documents its original envelope (snake_case, lower-case enums), whose example is valid
against it."""

from __future__ import annotations

from typing import Any

import jsonschema
from conftest import RunningApp

ORIGINAL = {
    ("post", "/api/community/patterns/share"), ("get", "/api/community/patterns/list"),
    ("get", "/api/community/patterns/search"), ("post", "/api/community/practices/add"),
    ("get", "/api/community/practices/list"),
    ("post", "/api/community/practices/{practice_id}/upvote"),
    ("post", "/api/community/threats/share"), ("get", "/api/community/threats/list"),
    ("post", "/api/community/templates/industry/add"),
    ("get", "/api/community/templates/industry/list"),
    ("post", "/api/community/templates/compliance/add"),
    ("get", "/api/community/templates/compliance/list"),
    ("post", "/api/community/benchmarks/add"), ("get", "/api/community/benchmarks/list"),
    ("post", "/api/community/benchmarks/compare"), ("get", "/api/community/stats"),
    ("post", "/api/community/threats/stix"), ("get", "/api/community/threats/stix"),
}


async def test_every_original_route_is_documented_with_its_body(app: RunningApp) -> None:
    async with app.client(app.admin_token) as http:
        document: dict[str, Any] = (await http.get("/api/openapi.json")).json()
        listed = (await http.get("/api/ecosystem/documentation")).text
    routes = {(method, path) for path, item in document["paths"].items()
              if path.startswith("/api/community/") for method in item}
    assert ORIGINAL <= routes, sorted(ORIGINAL - routes)
    for path in {path for _, path in ORIGINAL}:
        assert path in listed, path
    for method, path in sorted(routes):
        if method != "post" or path.endswith("/upvote"):
            continue
        body = document["paths"][path][method]["requestBody"]["content"]["application/json"]
        assert "schema" in body, path
        assert "example" in body, path
        jsonschema.validate(body["example"], body["schema"])
        properties = body["schema"]["properties"]
        assert not any(name != name.lower() for name in properties), (path, properties)
