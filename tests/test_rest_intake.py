"""The original CI/CD and security upload routes: raw tool output or a JSON envelope in,
evidence, findings and metrics out, every answer carrying its job id."""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import httpx
from jsonschema import Draft202012Validator

from arcos.evidence.loaders import ProjectById, StoredJsonBySeq

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


UPLOAD_PATHS = ("/api/cicd/build", "/api/cicd/test", "/api/cicd/deploy", "/api/security/scan",
                "/api/security/vulnerability", "/api/security/dependencies")


def documented(document: dict, path: str, method: str, status: int) -> Draft202012Validator:
    """A validator for the JSON body the served document promises for one answer."""
    response = document["paths"][path][method]["responses"][str(status)]
    schema = response["content"]["application/json"]["schema"]
    return Draft202012Validator({**schema, "components": document["components"]})


async def test_upload_routes_are_in_openapi(sqlite_live_server, genuine):
    """The OpenAPI document a live server serves lists every upload route with the raw
    media types and parameters it takes, and real answers of those routes (a raw JUnit
    upload, a JSON build, a refusal, the job status) match the schemas it documents."""
    from openapi_spec_validator import validate

    server = sqlite_live_server
    async with httpx.AsyncClient(base_url=server.http_url, headers=server.auth_headers,
                                 timeout=30) as http:
        document = (await http.get("/api/openapi.json")).json()
        validate(document)
        for path in UPLOAD_PATHS:
            upload = document["paths"][path]["post"]
            accepted = set(upload["requestBody"]["content"])
            assert {"application/json", "application/xml", "application/sarif+json",
                    "application/gzip"} <= accepted, path
            parameters = {parameter["name"] for parameter in upload["parameters"]}
            assert {"format", "project", "commit", "ref", "pipeline_run"} <= parameters, path
        status_parameters = document["paths"]["/api/cicd/status/{job_id}"]["get"]["parameters"]
        assert [p["name"] for p in status_parameters if p["in"] == "path"] == ["job_id"]

        junit = await http.post(
            "/api/cicd/test", content=genuine.read("junit-xunit2"),
            params={"project": PROJECT}, headers={"content-type": "application/xml"},
        )
        assert junit.status_code == 201, junit.text
        documented(document, "/api/cicd/test", "post", 201).validate(junit.json())
        build = await http.post("/api/cicd/build", json={"status": "success", "duration_seconds": 10},
                                params={"project": PROJECT})
        assert build.status_code == 201, build.text
        documented(document, "/api/cicd/build", "post", 201).validate(build.json())
        refused = await http.post("/api/security/scan", content=b'{"runs": "no"}',
                                  headers={"content-type": "application/sarif+json"})
        assert refused.status_code == 422, refused.text
        documented(document, "/api/security/scan", "post", 422).validate(refused.json())
        job = await http.get(f"/api/cicd/status/{junit.json()['job_id']}")
        assert job.status_code == 200, job.text
        documented(document, "/api/cicd/status/{job_id}", "get", 200).validate(job.json())


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


async def test_upload_answers_its_evidence_from_the_write_as_a_later_read_does(
    client, gql, monkeypatch
):
    """The answer's evidence, `data` and `project` included, is what the write had in hand
    (no loader reads it back after the commit), and it is the same JSON a later read of
    that evidence gives (non-ASCII text escaped alike)."""
    reads: list[str] = []
    for loader in (StoredJsonBySeq, ProjectById):
        def counting(self, keys, original=loader.batch_load, name=loader.__name__):
            reads.append(name)
            return original(self, keys)
        monkeypatch.setattr(loader, "batch_load", counting)
    report = ('<testsuite name="pytest"><testcase classname="tests.t" name="test_caf\u00e9">'
              '<failure message="na\u00efve">trace</failure></testcase>'
              '<testcase classname="tests.t" name="test_ok"/></testsuite>').encode()
    response = await client.post(
        "/api/cicd/test", content=report, params={"project": PROJECT},
        headers={"content-type": "application/xml"},
    )
    assert response.status_code == 201, response.text
    assert reads == []
    answered = response.json()["evidence"]
    assert answered["project"] == {"slug": PROJECT}
    assert answered["data"]["failures"][0]["name"] == "test_caf\u00e9"
    read = await gql("query($id: ID!) { evidence(id: $id) { id type source project { slug } "
                     "commitSha ref sha256 createdAt data } }", {"id": answered["id"]})
    assert sorted(reads) == ["ProjectById", "StoredJsonBySeq"]  # the read does load
    # The same value; PostgreSQL's jsonb hands a later read its keys in its own order.
    assert read["data"]["evidence"] == answered
