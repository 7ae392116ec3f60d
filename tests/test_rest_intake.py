"""The original CI/CD and security upload routes: raw tool output or a JSON envelope in,
evidence, findings and metrics out, every answer carrying its job id."""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "formats"))
pytest_plugins = ["format_artifacts"]

PROJECT = "github.com/acme/app"


def metrics(body: dict) -> dict[str, float]:
    return {metric["name"]: metric["value"] for metric in body["metrics"]}


async def test_raw_junit_with_query_parameters(client, genuine):
    response = await client.post(
        "/api/cicd/test", content=genuine.read("junit-xunit2"),
        params={"project": PROJECT, "commit": "ABCDEF1", "ref": "refs/heads/main",
                "pipeline_run": "run-7"},
        headers={"content-type": "application/xml"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["success"] is True and body["job_id"]
    assert body["evidence"]["type"] == "test_results"
    assert body["evidence"]["commitSha"] == "abcdef1"
    assert metrics(body)["tests.total"] == sum(genuine.pytest_counts().values())
    status = await client.get(f"/api/cicd/status/{body['job_id']}")
    assert status.json()["job"]["status"] == "SUCCEEDED"


async def test_coverage_goes_to_the_coverage_mutation_even_gzipped(client, genuine):
    packed = gzip.compress(genuine.read("cobertura"))
    response = await client.post(
        "/api/cicd/test", content=packed, params={"project": PROJECT},
        headers={"content-type": "application/gzip"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["evidence"]["type"] == "test_coverage"
    assert 0 < metrics(body)["coverage.line_rate"] <= 1


async def test_json_envelope_and_raw_json_both_work(client, genuine):
    sarif = genuine.read("bandit").decode()
    envelope = await client.post("/api/security/scan",
                                 json={"content": sarif, "project": PROJECT})
    assert envelope.status_code == 201, envelope.text
    assert envelope.json()["findings"]["total"] >= 1
    raw = await client.post("/api/security/scan", content=sarif.encode(),
                            params={"project": PROJECT},
                            headers={"content-type": "application/sarif+json"})
    assert raw.status_code == 201
    assert raw.json()["findings"]["new"] == 0  # the same findings, seen again


async def test_build_deploy_sbom_routes(client, genuine):
    build = {"status": "success", "duration_seconds": 61.5, "commit": "4f9c2e1",
             "ref": "refs/heads/main", "pipeline_id": "7"}
    response = await client.post("/api/cicd/build", json=build, params={"project": PROJECT})
    assert response.status_code == 201, response.text
    assert metrics(response.json())["build.success_rate"] == 1.0
    deploy = await client.post("/api/cicd/deploy", json={**build, "environment": "staging"},
                               params={"project": PROJECT})
    assert deploy.status_code == 201, deploy.text
    sbom = await client.post("/api/security/dependencies", content=genuine.read("cyclonedx-1.6"),
                             params={"project": PROJECT},
                             headers={"content-type": "application/vnd.cyclonedx+json"})
    assert sbom.status_code == 201, sbom.text
    assert sbom.json()["evidence"]["type"] == "sbom"


async def test_refusals_carry_the_job_id_and_store_no_evidence(client):
    bad = await client.post("/api/cicd/test", content=b"<testsuite><testcase", params={
        "project": PROJECT}, headers={"content-type": "application/xml"})
    assert bad.status_code == 422
    body = bad.json()
    assert body["success"] is False and body["job_id"] and body["error"]
    status = await client.get(f"/api/cicd/status/{body['job_id']}")
    assert status.json()["job"]["status"] == "FAILED"
    hostile = (b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
               b"<testsuite><testcase name='&x;'/></testsuite>")
    xxe = await client.post("/api/cicd/test", content=hostile,
                            headers={"content-type": "application/xml"})
    assert xxe.status_code == 422 and "passwd" not in xxe.text
    empty = await client.post("/api/security/scan", content=b"",
                              headers={"content-type": "application/sarif+json"})
    assert empty.status_code == 400
    unknown = await client.post("/api/security/scan", json={"content": "{}", "bogus": 1})
    assert unknown.status_code == 400
    assert (await client.get("/api/v3/evidence")).json()["totalCount"] == 0


async def test_status_route_404s_and_auth(client, anonymous_client):
    assert (await client.get("/api/cicd/status/not-a-job")).status_code == 404
    missing = await client.get("/api/cicd/status/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404 and missing.json()["success"] is False
    refused = await anonymous_client.post("/api/cicd/build", json={"status": "success"})
    assert refused.status_code == 401


async def test_uploads_over_the_artifact_limit_are_413(tmp_path):
    from conftest import running_app

    from arcos.settings import Settings

    settings = Settings(database_url=f"sqlite://{tmp_path / 'big.db'}", max_artifact_bytes=4096)
    async with running_app(settings) as app, app.client(app.admin_token) as http:
        big = await http.post("/api/cicd/test", content=b"<testsuite>" + b" " * 8192,
                              headers={"content-type": "application/xml"})
        assert big.status_code == 413
        bomb = gzip.compress(b"<testsuites>" + b" " * 200_000 + b"</testsuites>")
        assert len(bomb) < 4096
        inflated = await http.post("/api/cicd/test", content=bomb,
                                   headers={"content-type": "application/gzip"})
        assert inflated.status_code == 413, inflated.text
        assert "job_id" in inflated.json()


def test_upload_routes_are_in_openapi():
    from arcos.domains import REGISTRY

    paths = {route.path for route in REGISTRY.rest_routes}
    assert {"/api/cicd/build", "/api/cicd/test", "/api/cicd/deploy", "/api/cicd/status/{job_id}",
            "/api/security/scan", "/api/security/vulnerability",
            "/api/security/dependencies"} <= paths
    assert json.dumps(sorted(paths))


async def test_project_latest_metrics_shows_the_newest_values(client, gql):
    for status in ("failure", "success"):
        response = await client.post("/api/cicd/build", json={"status": status,
                                     "duration_seconds": 10}, params={"project": PROJECT})
        assert response.status_code == 201
    result = await gql('{ project(slug: "github.com/acme/app") { latestMetrics(names: '
                       '["build.success_rate"]) { name value } } }')
    assert result["data"]["project"]["latestMetrics"] == [
        {"name": "build.success_rate", "value": 0.5}
    ]


async def test_metric_reaches_a_websocket_subscriber_after_a_rest_upload(
    sqlite_live_server, genuine
):
    import asyncio

    import httpx
    from websockets.asyncio.client import connect

    server = sqlite_live_server
    async with connect(server.ws_url, subprotocols=["graphql-transport-ws"]) as socket:
        await socket.send(json.dumps({"type": "connection_init",
                                      "payload": {"authorization": f"Bearer {server.token}"}}))
        assert json.loads(await asyncio.wait_for(socket.recv(), 10))["type"] == "connection_ack"
        await socket.send(json.dumps({"id": "m", "type": "subscribe", "payload": {
            "query": f'subscription {{ qualityMetricUpdated(project: "{PROJECT}") '
                     "{ name value } }"}}))
        await asyncio.sleep(0.3)
        async with httpx.AsyncClient(headers=server.auth_headers) as http:
            upload = await http.post(f"{server.http_url}/api/cicd/test",
                                     content=genuine.read("junit-xunit2"),
                                     params={"project": PROJECT},
                                     headers={"content-type": "application/xml"})
        assert upload.status_code == 201, upload.text
        recorded = metrics(upload.json())
        seen: dict[str, float] = {}
        while set(seen) != set(recorded):
            message = json.loads(await asyncio.wait_for(socket.recv(), 10))
            assert message["type"] == "next", message
            metric = message["payload"]["data"]["qualityMetricUpdated"]
            seen[metric["name"]] = metric["value"]
    assert seen == recorded


async def test_graphql_multipart_upload_of_a_report_file(client, genuine):
    operations = {
        "query": "mutation($f: Upload!) { submitTestReport(input: {file: $f, project: "
                 f'"{PROJECT}"}}) {{ jobId metrics {{ name value }} errors {{ field message }} }} }}',
        "variables": {"f": None},
    }
    response = await client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.f"]})},
        files={"0": ("junit.xml", genuine.read("junit-xunit2"), "application/xml")},
    )
    assert response.status_code == 200, response.text
    payload = response.json()["data"]["submitTestReport"]
    assert payload["errors"] == [] and payload["jobId"]
    assert metrics(payload)["tests.total"] == sum(genuine.pytest_counts().values())
    both = await client.post(
        "/graphql",
        data={"operations": json.dumps({**operations, "query": operations["query"].replace(
            "file: $f", 'file: $f, content: "x"')}), "map": json.dumps({"0": ["variables.f"]})},
        files={"0": ("junit.xml", b"<testsuite/>", "application/xml")},
    )
    assert both.json()["data"]["submitTestReport"]["errors"][0]["field"] == "content"
