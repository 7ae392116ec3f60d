"""assuranceCaseUpdated over a real websocket: a subscriber of a template case sees the
solution a genuine test report decides, and its ancestors, flip when a failing report
arrives; evidence for another project sends nothing."""

from __future__ import annotations

from typing import Any

import httpx
from community.templates_kit import template_artifacts
from conftest import LiveServer
from ws_client import TRANSPORT_WS, ws_connect

__all__ = ["template_artifacts"]  # the session fixture the test takes

PROJECT = "github.com/acme/live"
UPDATED = """subscription($id: String!) { assuranceCaseUpdated(id: $id) {
  caseId status changed { id status evidenceIds reason } openItems } }"""


async def graphql(http: httpx.AsyncClient, server: LiveServer, query: str,
                  variables: dict[str, Any]) -> dict[str, Any]:
    response = await http.post(f"{server.http_url}/graphql", headers=server.auth_headers,
                               json={"query": query, "variables": variables}, timeout=60)
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def report(http: httpx.AsyncClient, server: LiveServer, content: str,
                 project: str = PROJECT) -> None:
    data = await graphql(http, server, "mutation($input: ArtifactInput!) { submitTestReport("
                         "input: $input) { errors { message } } }",
                         {"input": {"content": content, "project": project}})
    assert data["submitTestReport"]["errors"] == []


async def test_subscriber_sees_the_solution_and_its_ancestors_flip(
        sqlite_live_server: LiveServer, template_artifacts) -> None:
    server = sqlite_live_server
    async with httpx.AsyncClient() as http:
        made = await graphql(http, server, """mutation($input: CreateCaseFromTemplateInput!) {
            createCaseFromTemplate(input: $input) { case { caseId } } }""",
                             {"input": {"template": "automotive", "project": PROJECT}})
        case_id = made["createCaseFromTemplate"]["case"]["caseId"]
        async with ws_connect(server.ws_url, TRANSPORT_WS, token=server.token) as client:
            await client.subscribe("case", UPDATED, {"id": case_id})
            await report(http, server, template_artifacts.read("red-junit.xml"),
                         project="github.com/acme/elsewhere")
            await report(http, server, template_artifacts.read("green-junit.xml"))
            payload = await client.next_payload("case")
            assert "errors" not in payload, payload
            update = payload["data"]["assuranceCaseUpdated"]
            changed = {e["id"]: e for e in update["changed"]}
            assert update["caseId"] == case_id  # the first update is this project's
            assert changed["Sn1.TR"]["status"] == "SUPPORTED"
            assert "elsewhere" not in str(update)
            await report(http, server, template_artifacts.read("red-junit.xml"))
            while True:  # the report's evidence and metric events may each send one
                update = (await client.next_payload("case"))["data"]["assuranceCaseUpdated"]
                changed = {e["id"]: e["status"] for e in update["changed"]}
                if "Sn1.TR" in changed:
                    break
            assert changed["Sn1.TR"] == "FAILING"
            assert {changed.get(e) for e in ("G2", "S1", "G1")} == {"FAILING"}
            assert update["status"] == "FAILING"
