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


async def test_bodies_the_documented_schema_refuses_are_refused(app: RunningApp) -> None:
    """What the fuzzer found: GraphQL would coerce `"references": "AAA"` to a list, and a
    dict where a string belongs crashed two readers; each is a 400 naming the field."""
    from arcos.community.library_models import BestPractice
    from arcos.community.threats_models import Threat

    practice = {"title": "Pin", "category": "security", "description": "d",
                "references": "AAA"}
    threat = {"title": "t", "kind": "tool", "severity": "low"}
    node = {"id": "G1", "type": {}, "text": "x"}
    template = {"key": "acme", "name": "n", "argument": [node]}
    async with app.client(app.admin_token) as http:
        refused = {
            "practice.references": await http.post(
                "/api/community/practices/add", json={"practice": practice}),
            "permission": await http.post(
                "/api/community/threats/share", json={"threat": threat, "permission": {}}),
            "template.argument.0.type": await http.post(
                "/api/community/templates/industry/add", json={"template": template}),
        }
        graphql = await http.post("/graphql", json={
            "query": "mutation($i: AddIndustryTemplateInput!) { addIndustryTemplate(input: $i)"
                     " { errors { field code } } }",
            "variables": {"i": {"key": "acme", "name": "n", "argument": [node]}}})
    for field, response in refused.items():
        assert response.status_code == 400, (field, response.text)
        assert field in response.json()["error"], (field, response.text)
    assert {"field": "argument.0.type", "code": "INVALID"} in \
        graphql.json()["data"]["addIndustryTemplate"]["errors"], graphql.text
    assert await BestPractice.all().count() == 0 and await Threat.all().count() == 0
