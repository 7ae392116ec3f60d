"""Assurance cases over a real server: GraphQL create / update (versions) / read /
validate / from a template, and the REST rows with good, incomplete, ill-formed, hostile
and unauthorised requests (4xx with clear messages, nothing half-written)."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from typing import Any

import httpx
from conftest import LiveServer, issue_token_with_cli

CASE = """\
module: {name: Release 1.0 is secure, brief: b}
G1: {text: The release is secure., supportedBy: [S1], inContextOf: [C1]}
C1: {text: Release 1.0.}
S1: {text: Argue over tests and scans., supportedBy: [G2, G3]}
G2: {text: Tests pass., supportedBy: [Sn1], public: true}
G3: {text: No critical findings., undeveloped: true}
Sn1:
  text: JUnit results.
  arcos: {metric: tests.pass_rate, predicate: '>= 0.95', max_age_days: 30}
"""
YAML = {"content-type": "application/yaml"}
PROJECT = "github.com/acme/app"


def gql(server: LiveServer, query: str, variables: dict[str, Any],
        token: str | None = None) -> dict[str, Any]:
    response = httpx.post(f"{server.http_url}/graphql", json={"query": query,
                          "variables": variables},
                          headers={"authorization": f"Bearer {token or server.token}"})
    assert response.status_code == 200, response.text
    return response.json()


def post_case(server: LiveServer, body: str | bytes, headers: dict[str, str] | None = None,
              token: str | None = None) -> httpx.Response:
    auth = {} if token == "" else {"authorization": f"Bearer {token or server.token}"}
    return httpx.post(f"{server.http_url}/api/v3/cases", params={"project": PROJECT},
                      content=body, headers={**YAML, **auth, **(headers or {})}, timeout=30)


def count_cases(server: LiveServer) -> int:
    data = gql(server, "query($p: String!) { assuranceCases(project: $p) { caseId } }",
               {"p": PROJECT})
    return len(data["data"]["assuranceCases"])


def test_rest_create_and_export_in_every_format(live_server: LiveServer) -> None:
    created = post_case(live_server, CASE)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["wellformedness"] == "INCOMPLETE" and body["validation"]["openItems"] == ["G3"]
    case_id = body["caseId"]
    url = f"{live_server.http_url}/api/v3/cases/{case_id}"
    auth = live_server.auth_headers
    yaml_text = httpx.get(url, params={"format": "yaml"}, headers=auth)
    assert yaml_text.headers["content-type"].startswith("application/yaml")
    assert "arcos:" in yaml_text.text and "tests.pass_rate" in yaml_text.text
    plain = httpx.get(url, params={"format": "yaml", "plain": "true"}, headers=auth)
    assert "arcos" not in plain.text.replace("ARCOS assurance case", "")
    again = post_case(live_server, yaml_text.text)  # round trip through the server
    assert again.status_code == 201 and again.json()["title"] == body["title"]
    svg = httpx.get(url, params={"format": "svg"}, headers=auth)
    assert svg.headers["content-type"].startswith("image/svg+xml")
    groups = [g for g in ElementTree.fromstring(svg.text).iter("{http://www.w3.org/2000/svg}g")
              if "gsn-node" in (g.get("class") or "")]
    assert len(groups) == 6
    dot = httpx.get(url, params={"format": "dot"}, headers=auth)
    assert dot.text.startswith("digraph case {")
    as_json = httpx.get(url, headers=auth).json()
    assert [e["id"] for e in as_json["elements"]][:2] == ["G1", "C1"]
    missing = httpx.get(f"{live_server.http_url}/api/v3/cases/00000000-0000-0000-0000-"
                        "000000000000", headers=auth)
    assert missing.status_code == 404 and "no assurance case" in missing.text
    live = httpx.get(f"{url}/status", headers=auth)
    assert live.status_code == 200, live.text
    states = {e["id"]: e for e in live.json()["status"]["elements"]}
    assert states["Sn1"]["status"] == "MISSING" and "has no evidence" in states["Sn1"]["reason"]
    assert states["G3"]["status"] == "OPEN" and live.json()["status"]["status"] == "OPEN"
    assert "C1" not in states
    as_json_body = httpx.post(f"{live_server.http_url}/api/v3/cases",
                              params={"project": PROJECT}, json=as_json, headers=auth)
    assert as_json_body.status_code == 201, as_json_body.text
    assert as_json_body.json()["validation"]["openItems"] == ["G3"]
    listed = gql(live_server, "query($p: String!) { assuranceCases(project: $p) { caseId "
                 "version wellformedness } }", {"p": PROJECT})["data"]["assuranceCases"]
    assert listed[0]["caseId"] == case_id and len(listed) == 3
    assert {c["wellformedness"] for c in listed} == {"INCOMPLETE"}


def test_hard_violations_are_422_listing_each_and_nothing_is_stored(
        live_server: LiveServer) -> None:
    broken = CASE.replace("supportedBy: [Sn1], public", "supportedBy: [Sn1, S1], public") \
        + "G9: {text: Another root., undeveloped: true}\nSn2: {text: x, supportedBy: [G2]}\n"
    response = post_case(live_server, broken)
    assert response.status_code == 422, response.text
    texts = [e["message"] for e in response.json()["errors"]]
    assert any("GSN3" in t and "cycle" in t for t in texts)
    assert any("GSN1" in t and "roots" in t for t in texts)
    assert any("GSN4" in t and "Sn2 is a solution" in t for t in texts)
    assert count_cases(live_server) == 0


def test_hostile_and_malformed_bodies_are_refused_clearly(live_server: LiveServer) -> None:
    laughs = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n"
        for i in range(8))
    for body, status, needle in [
        (laughs, 422, "expands to more than"),
        ("[" * 500 + "]" * 500, 422, "nested deeper"),
        (b"\x89PNG\r\n\x1a\n\xff\xfe", 400, "not UTF-8"),
        ("G1: {text: a}\nG1: {text: b}\n", 422, "given twice"),
        ("G1: {text: [unclosed\n", 422, "line"),
        ("module: {name: x}\nG1: !!python/object/apply:os.system [id]\n", 422, "plain YAML"),
        ("x" * (600 * 1024), 422, "at most"),
    ]:
        response = post_case(live_server, body)
        assert response.status_code == status, (body[:40], response.text)
        assert needle in response.text, response.text
    wrong_type = post_case(live_server, CASE, headers={"content-type": "text/plain"})
    assert wrong_type.status_code == 415 and "application/yaml" in wrong_type.text
    assert count_cases(live_server) == 0


def test_callers_need_the_scopes(live_server: LiveServer) -> None:
    assert post_case(live_server, CASE, token="").status_code == 401
    reader = issue_token_with_cli(live_server.database_url, "reader", "evidence:read")
    refused = post_case(live_server, CASE, token=reader)
    assert refused.status_code == 403 and "evidence:write" in refused.text
    writer = issue_token_with_cli(live_server.database_url, "cases", "evidence:write")
    assert post_case(live_server, CASE, token=writer).status_code == 201
    nobody = issue_token_with_cli(live_server.database_url, "nobody", "community:read")
    data = gql(live_server, "query($p: String!) { assuranceCases(project: $p) { caseId } }",
               {"p": PROJECT}, token=nobody)
    assert data["errors"][0]["extensions"]["code"] == "FORBIDDEN"


CREATE = """mutation($input: CreateAssuranceCaseInput!) { createAssuranceCase(input: $input) {
  case { caseId version wellformedness elements { id kind rule } }
  errors { field message code } } }"""
UPDATE = """mutation($input: UpdateAssuranceCaseInput!) { updateAssuranceCase(input: $input) {
  case { caseId version latestVersion title versions { number title } }
  errors { field message code } } }"""


def test_graphql_versions_validation_away_goals_and_templates(live_server: LiveServer) -> None:
    created = gql(live_server, CREATE, {"input": {"project": PROJECT, "yaml": CASE}})
    case = created["data"]["createAssuranceCase"]["case"]
    case_id = case["caseId"]
    updated = gql(live_server, UPDATE, {"input": {"id": case_id, "yaml": CASE,
                                                  "title": "Second edition"}})
    assert updated["data"]["updateAssuranceCase"]["case"]["versions"] == [
        {"number": 1, "title": "Release 1.0 is secure"}, {"number": 2, "title": "Second edition"}]
    old = gql(live_server, 'query($id: String!) { assuranceCase(id: $id, version: 1) '
              "{ title version latestVersion } }", {"id": case_id})
    assert old["data"]["assuranceCase"] == {"title": "Release 1.0 is secure", "version": 1,
                                            "latestVersion": 2}
    away = {"title": "Platform", "elements": [
        {"id": "G10", "type": "goal", "text": "Platform ok.", "supportedBy": ["G2"]},
        {"id": "G2", "type": "away_goal", "text": "Tests pass.", "module": case_id},
    ]}
    made = gql(live_server, CREATE, {"input": {"project": PROJECT, "json": away}})
    assert made["data"]["createAssuranceCase"]["errors"] == []
    clash = {"title": "Platform", "elements": [{**away["elements"][0], "id": "S1"},
                                               away["elements"][1]]}
    refused = gql(live_server, CREATE, {"input": {"project": PROJECT, "json": clash}})
    [error] = refused["data"]["createAssuranceCase"]["errors"]
    assert f"S1 is also an id in case {case_id}" in error["message"]  # ids unique across modules
    away["elements"][1]["id"] = "G3"  # G3 is not public there
    away["elements"][0]["supportedBy"] = ["G3"]
    refused = gql(live_server, CREATE, {"input": {"project": PROJECT, "json": away}})
    [error] = refused["data"]["createAssuranceCase"]["errors"]
    assert "not a public goal of case" in error["message"] and "GSN6" in error["message"]
    bad_rule = CASE.replace("predicate: '>= 0.95'", "predicate: 'bigger please'")
    refused = gql(live_server, CREATE, {"input": {"project": PROJECT, "yaml": bad_rule}})
    assert refused["data"]["createAssuranceCase"]["errors"][0]["field"].startswith(
        "elements.5.arcos")
    checked = gql(live_server, "query($y: String) { validateCase(yaml: $y) { wellformedness "
                  "openItems violations { rule severity elements text } } }",
                  {"y": CASE.replace("undeveloped: true", "supportedBy: [G1]")})
    result = checked["data"]["validateCase"]
    assert result["wellformedness"] == "ILL_FORMED"
    assert any(v["rule"] == 3 and v["severity"] == "ERROR" for v in result["violations"])
    for key in ("healthcare", "finance", "automotive", "aerospace", "industrial-control",
                "retail", "education", "government"):
        made = gql(live_server, """mutation($input: CreateCaseFromTemplateInput!) {
            createCaseFromTemplate(input: $input) { case { wellformedness elements { id kind
            rule } } errors { message } } }""", {"input": {"template": key,
                                                             "project": PROJECT}})
        payload = made["data"]["createCaseFromTemplate"]
        assert payload["errors"] == [] and payload["case"]["wellformedness"] == "WELL_FORMED"
        solutions = [e for e in payload["case"]["elements"] if e["kind"] == "SOLUTION"]
        assert solutions and all(e["rule"] for e in solutions)
    unknown = gql(live_server, """mutation { createCaseFromTemplate(input: {template: "nope",
        project: "github.com/acme/app"}) { errors { field code } } }""", {})
    assert unknown["data"]["createCaseFromTemplate"]["errors"] == [
        {"field": "template", "code": "NOT_FOUND"}]
