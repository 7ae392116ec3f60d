"""The three original benchmark routes: the original request shapes (snake_case, lower-case
enums), 201 with the id, refusals naming the field, visibility on the list, OpenAPI."""

from __future__ import annotations

from typing import Any

import httpx
from conftest import RunningApp

ORIGINAL = {
    "benchmark": {
        "name": "Payments services 2026", "industry": "finance", "project_type": "web_service",
        "metrics": [
            {"name": "coverage.line_rate", "direction": "higher_is_better", "p25": 0.6,
             "p50": 0.7, "p75": 0.8, "p90": 0.9, "mean": 0.71, "sample_size": 40},
            {"name": "findings.critical", "direction": "lower_is_better", "p25": 0,
             "p50": 0, "p75": 0, "p90": 2, "sample_size": 40},
        ],
    },
    "permission": "public",
}
PATHS = {("POST", "/api/community/benchmarks/add"), ("GET", "/api/community/benchmarks/list"),
         ("POST", "/api/community/benchmarks/compare")}


def _body(**benchmark_changes: Any) -> dict[str, Any]:
    return {**ORIGINAL, "benchmark": {**ORIGINAL["benchmark"], **benchmark_changes}}


async def test_add_answers_201_with_the_id_in_snake_case(client: httpx.AsyncClient):
    response = await client.post("/api/community/benchmarks/add", json=ORIGINAL)
    assert response.status_code == 201, response.text
    body = response.json()
    benchmark = body["benchmark"]
    assert body["success"] is True and body["benchmark_id"] == benchmark["id"]
    assert (benchmark["project_type"], benchmark["visibility"]) == ("web_service", "public")
    assert benchmark["metrics"][0] == {**ORIGINAL["benchmark"]["metrics"][0], "p25": 0.6}
    assert benchmark["metrics"][1]["direction"] == "lower_is_better"
    assert benchmark["metrics"][1]["mean"] is None
    assert response.headers["API-Version"] == "legacy"


async def test_compare_takes_the_original_body(client: httpx.AsyncClient):
    benchmark_id = (await client.post("/api/community/benchmarks/add",
                                      json=ORIGINAL)).json()["benchmark_id"]
    response = await client.post("/api/community/benchmarks/compare", json={
        "benchmark_id": benchmark_id,
        "metrics": {"coverage.line_rate": 0.85, "findings.critical": 1}})
    assert response.status_code == 200, response.text
    comparison = response.json()["comparison"]
    by_name = {m["name"]: m for m in comparison["metrics"]}
    assert by_name["coverage.line_rate"]["verdict"] == "better"
    critical = by_name["findings.critical"]
    assert (critical["verdict"], critical["status"], critical["relative_delta"]) == (
        "worse", "zero_median", None)
    assert comparison["benchmark"]["id"] == benchmark_id
    missing = await client.post("/api/community/benchmarks/compare", json={
        "benchmark_id": "QmVuY2htYXJrOjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMA==",
        "metrics": {"coverage.line_rate": 0.85}})
    assert missing.status_code == 404 and missing.json()["success"] is False


async def test_list_filters_by_visibility_with_total_count(app: RunningApp,
                                                           client: httpx.AsyncClient):
    for permission in ("public", "community", "private"):
        created = await client.post("/api/community/benchmarks/add",
                                    json={**ORIGINAL, "permission": permission})
        assert created.status_code == 201, created.text
    listed = (await client.get("/api/community/benchmarks/list")).json()
    assert (listed["count"], listed["total_count"]) == (3, 3)
    async with app.client(await app.issue("bob", "community:read")) as member:
        seen = (await member.get("/api/community/benchmarks/list")).json()
        assert (seen["count"], seen["total_count"], seen["next_cursor"]) == (2, 2, None)
        assert {b["visibility"] for b in seen["benchmarks"]} == {"public", "community"}
        other = (await member.get("/api/community/benchmarks/list?industry=retail")).json()
        assert (other["count"], other["total_count"]) == (0, 0)
    for n in range(21):
        await client.post("/api/community/benchmarks/add", json={**ORIGINAL, "benchmark": {
            **ORIGINAL["benchmark"], "name": f"page {n}"}})
    first = (await client.get("/api/community/benchmarks/list")).json()
    assert (first["count"], first["total_count"]) == (20, 24) and first["next_cursor"]
    rest = (await client.get("/api/community/benchmarks/list",
                             params={"after": first["next_cursor"]})).json()
    assert rest["count"] == 4 and rest["next_cursor"] is None


async def test_bad_bodies_are_4xx_naming_the_field_and_write_nothing(
    client: httpx.AsyncClient
):
    metric = ORIGINAL["benchmark"]["metrics"][0]
    cases = [
        (_body(metrics=[{**metric, "p75": 0.5}]), 422, "metrics.0.p75"),
        (_body(metrics=[{**metric, "sample_size": 0}]), 422, "metrics.0.sample_size"),
        (_body(metrics=[{**metric, "direction": "sideways"}]), 400,
         "benchmark.metrics.0.direction"),
        (_body(metrics=[{**metric, "name": f"m.{i}"} for i in range(10_000)]), 422, "metrics"),
        (_body(colour="blue"), 400, "colour"),
        ({**ORIGINAL, "permission": "friends"}, 400, "permission"),
    ]
    for body, status, field in cases:
        response = await client.post("/api/community/benchmarks/add", json=body)
        assert response.status_code == status, (field, response.text)
        answer = response.json()
        assert answer["success"] is False and field in response.text, answer
    nan = await client.post(
        "/api/community/benchmarks/add", headers={"content-type": "application/json"},
        content=b'{"benchmark": {"name": "n", "industry": "finance", "project_type": "w", '
                b'"metrics": [{"name": "m", "direction": "higher_is_better", "p25": 0, '
                b'"p50": NaN, "p75": 1, "p90": 2, "sample_size": 3}]}}')
    assert nan.status_code in (400, 422) and nan.json()["success"] is False, nan.text
    listed = (await client.get("/api/community/benchmarks/list")).json()
    assert listed["total_count"] == 0


async def test_routes_are_in_openapi_and_the_documentation(client: httpx.AsyncClient):
    spec = (await client.get("/api/openapi.json")).json()
    documented = {(method.upper(), path) for path, item in spec["paths"].items()
                  for method in item}
    assert PATHS <= documented
    answer = spec["paths"]["/api/community/benchmarks/add"]["post"]["responses"]["201"]
    schema = answer["content"]["application/json"]["schema"]
    assert "benchmark_id" in schema["properties"]
    direction = schema["properties"]["benchmark"]["properties"]["metrics"]["items"][
        "properties"]["direction"]
    assert set(direction["enum"]) == {"higher_is_better", "lower_is_better"}
    docs = (await client.get("/api/ecosystem/documentation")).text
    assert "/api/community/benchmarks/compare" in docs
