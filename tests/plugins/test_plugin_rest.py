"""The eight original plugin routes: the original envelope, statuses, OpenAPI and docs."""

from __future__ import annotations

import httpx
import pytest
from conftest import RunningApp
from plugin_kit import COLLECTOR_CODE, FAILING_CODE, manifest

PLUGIN_PATHS = {
    ("POST", "/api/plugins/register"), ("POST", "/api/plugins/validate"),
    ("POST", "/api/plugins/{plugin_id}/execute"), ("DELETE", "/api/plugins/{plugin_id}"),
    ("GET", "/api/plugins/list"), ("GET", "/api/plugins/{plugin_id}"),
    ("GET", "/api/plugins/search"), ("GET", "/api/plugins/stats"),
}


async def registered(client: httpx.AsyncClient, code: str = COLLECTOR_CODE,
                     **fields: object) -> dict:
    response = await client.post("/api/plugins/register",
                                 json={"manifest": manifest(**fields), "code": code})
    assert response.status_code == 201, response.text
    return response.json()


async def test_register_takes_the_original_shape_and_answers_201(client: httpx.AsyncClient):
    original = {"plugin_id": "acme.gate", "name": "Gate", "version": "1.0.0",
                "type": "collector", "permissions": ["evidence.write"],
                "entry_point": "collect"}
    response = await client.post("/api/plugins/register",
                                 json={"manifest": original, "code": COLLECTOR_CODE})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["success"] is True
    assert body["plugin"]["pluginId"] == "acme.gate" and body["plugin"]["state"] == "ACTIVE"


async def test_register_refuses_with_422_listing_every_problem(client: httpx.AsyncClient):
    response = await client.post("/api/plugins/register", json={
        "manifest": manifest(version="one", kind="gadget"), "code": "import os\n"})
    assert response.status_code == 422
    body = response.json()
    assert body["success"] is False and body["error"]
    fields = {detail["extensions"]["field"] for detail in body["errors"]}
    assert {"manifest.version", "manifest.type", "code"} <= fields
    listed = (await client.get("/api/plugins/list")).json()
    assert listed == {"success": True, "plugins": [], "count": 0}


async def test_validate_answers_200_with_valid_and_positioned_problems(
    client: httpx.AsyncClient
):
    response = await client.post("/api/plugins/validate", json={
        "manifest": manifest(), "code": "def collect():\n    return x._secret\n"})
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and body["valid"] is False
    problem = body["problems"][0]
    assert problem["field"] == "code" and problem["line"] == 2 and problem["column"] >= 0
    good = await client.post("/api/plugins/validate",
                             json={"manifest": manifest(), "code": COLLECTOR_CODE})
    assert good.json()["valid"] is True and good.json()["problems"] == []


async def test_execute_list_get_search_stats_and_delete(client: httpx.AsyncClient):
    await registered(client)
    executed = await client.post("/api/plugins/acme.coverage_gate/execute",
                                 json={"input": {"n": 2}, "project": "acme/app"})
    assert executed.status_code == 200, executed.text
    body = executed.json()
    assert body["success"] is True
    assert body["result"] == {"evidence": [{"type": "coverage_gate", "data": {"seen": 2}}]}
    assert body["execution"]["status"] == "SUCCEEDED"
    assert body["evidence"][0]["source"] == "plugin:acme.coverage_gate@1.0.0"

    one = (await client.get("/api/plugins/acme.coverage_gate")).json()
    assert one["success"] is True and [v["version"] for v in one["plugin"]["versions"]] == [
        "1.0.0"]
    found = (await client.get("/api/plugins/search", params={"q": "coverage"})).json()
    assert found["count"] == 1 and found["plugins"][0]["pluginId"] == "acme.coverage_gate"
    stats = (await client.get("/api/plugins/stats")).json()
    assert stats["success"] is True and stats["stats"]["executions"] == 1

    deleted = await client.delete("/api/plugins/acme.coverage_gate")
    assert deleted.status_code == 200
    assert deleted.json() == {"success": True, "pluginId": "acme.coverage_gate",
                              "removedVersions": 1}
    gone = await client.get("/api/plugins/acme.coverage_gate")
    assert gone.status_code == 404 and gone.json()["success"] is False
    # Its executions stay.
    stats = (await client.get("/api/plugins/stats")).json()
    assert stats["stats"]["executions"] == 1


@pytest.mark.parametrize(("method", "path", "body", "status"), [
    ("POST", "/api/plugins/nope.nothing/execute", {"input": {}}, 404),
    ("DELETE", "/api/plugins/nope.nothing", None, 404),
    ("GET", "/api/plugins/nope.nothing", None, 404),
    ("POST", "/api/plugins/acme.coverage_gate/execute", {"input": []}, 422),
    ("POST", "/api/plugins/acme.coverage_gate/execute", {"inptu": {}}, 400),
    ("POST", "/api/plugins/acme.coverage_gate/execute", {"plugin": "other.one"}, 400),
    ("POST", "/api/plugins/register", {"manifest": {}}, 400),
    ("POST", "/api/plugins/validate", {"code": "x"}, 400),
    ("GET", "/api/plugins/search", None, 400),
    ("GET", "/api/plugins/list?type=gadget", None, 400),
    ("GET", "/api/plugins/list?first=0", None, 400),
    ("GET", "/api/plugins/" + "x" * 300, None, 404),
])
async def test_refusals_name_what_to_fix(
    client: httpx.AsyncClient, method: str, path: str, body: object, status: int
):
    await registered(client)
    response = await client.request(method, path, json=body)
    assert response.status_code == status, response.text
    answer = response.json()
    assert answer["success"] is False and len(answer["error"]) > 10


async def test_a_failed_run_is_a_422_naming_why(client: httpx.AsyncClient):
    await registered(client, code=FAILING_CODE, entry_point="run", permissions=())
    response = await client.post("/api/plugins/acme.coverage_gate/execute", json={})
    assert response.status_code == 422
    assert "ZeroDivisionError" in response.json()["error"] or "division" in response.json()[
        "error"]


async def test_a_revoked_plugin_is_a_409(client: httpx.AsyncClient, gql):
    await registered(client)
    await gql('mutation { revokePlugin(input: {plugin: "acme.coverage_gate"}) '
              "{ errors { code } } }")
    response = await client.post("/api/plugins/acme.coverage_gate/execute",
                                 json={"input": {}, "version": "1.0.0"})
    assert response.status_code == 409 and "revoked" in response.json()["error"]


async def test_unauthenticated_and_unscoped_callers_get_401_and_403(app: RunningApp):
    reader = await app.issue("reader", "plugins:read")
    async with app.client() as anonymous, app.client(reader) as http:
        for method, path in sorted(PLUGIN_PATHS):
            concrete = path.replace("{plugin_id}", "acme.coverage_gate")
            response = await anonymous.request(method, concrete, json={})
            assert response.status_code == 401, (method, path, response.text)
            if method != "GET":
                refused = await http.request(method, concrete, json={})
                assert refused.status_code == 403, (method, path, refused.text)


async def test_openapi_and_documentation_list_every_plugin_route(client: httpx.AsyncClient):
    openapi = (await client.get("/api/openapi.json")).json()
    documented = {(method.upper(), path) for path, item in openapi["paths"].items()
                  for method in item}
    assert PLUGIN_PATHS <= documented
    execute = openapi["paths"]["/api/plugins/{plugin_id}/execute"]["post"]
    body = execute["requestBody"]["content"]["application/json"]
    assert "plugin" not in body["schema"]["properties"]  # the path names it
    assert "input" in body["schema"]["properties"] and body["example"]["input"]
    docs = (await client.get("/api/ecosystem/documentation")).text
    for _, path in PLUGIN_PATHS:
        assert path in docs


async def test_introspection_reads_every_default(client: httpx.AsyncClient):
    from graphql import get_introspection_query

    body = (await client.post("/graphql", json={"query": get_introspection_query()})).json()
    assert "errors" not in body, body.get("errors")
