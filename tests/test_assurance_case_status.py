"""A case made from an industry template on a project fed with genuine artifacts (pytest's
JUnit, coverage.py, Bandit SARIF, a CycloneDX SBOM) evaluates to a status explained by that
evidence; a new failing test report flips its Solution and every ancestor; caseStatusAt
answers as the store stood before it."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ElementTree
from datetime import timedelta
from typing import Any

from community.templates_kit import feed, template_artifacts, upload

__all__ = ["template_artifacts"]  # the session fixture the tests below take

PROJECT = "github.com/acme/green"
SVG = "{http://www.w3.org/2000/svg}"
FIELDS = "status version counts { status count } openItems elements { id kind status " \
         "evidenceIds reason }"


def uuid_of(global_id: str) -> str:
    return base64.b64decode(global_id).decode().partition(":")[2]


async def status(gql: Any, case_id: str) -> dict[str, Any]:
    body = await gql(f'query($id: String!) {{ assuranceCase(id: $id) {{ status {{ {FIELDS} }} '
                     "} }", {"id": case_id})
    return body["data"]["assuranceCase"]["status"]


def by_id(found: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {element["id"]: element for element in found["elements"]}


async def test_template_case_status_follows_the_evidence(app, gql, template_artifacts):
    green = await feed(gql, template_artifacts, "green", PROJECT, sbom=True)
    made = await gql("""mutation($input: CreateCaseFromTemplateInput!) {
        createCaseFromTemplate(input: $input) { case { caseId } errors { message } } }""",
                     {"input": {"template": "healthcare", "project": PROJECT}})
    case_id = made["data"]["createCaseFromTemplate"]["case"]["caseId"]
    before = await status(gql, case_id)
    elements = by_id(before)
    assert elements["Sn1.TR"]["status"] == "SUPPORTED"
    assert elements["Sn1.TR"]["evidenceIds"] == [uuid_of(green["test_results"])]
    assert elements["Sn2.SAST"]["status"] == "SUPPORTED"  # Bandit found nothing critical
    assert elements["Sn2.CR"]["status"] == "MISSING"  # no code review was fed
    assert elements["G2"]["status"] == "OPEN" and before["status"] == "OPEN"
    assert "C1" not in elements  # context carries no status
    assert "Sn2.CR" in before["openItems"] and "Sn1.TR" not in before["openItems"]
    counts = {c["status"]: c["count"] for c in before["counts"]}
    assert sum(counts.values()) == len(before["elements"])

    moment = app.app.state.writer.clock()
    writer = app.app.state.writer
    real = writer.clock
    writer.clock = lambda: real() + timedelta(seconds=5)  # the red report arrives later
    try:
        red = await upload(gql, "submitTestReport", template_artifacts.read("red-junit.xml"),
                           PROJECT)
        after = by_id(await status(gql, case_id))
    finally:
        writer.clock = real
    assert after["Sn1.TR"]["status"] == "FAILING"
    assert after["Sn1.TR"]["evidenceIds"] == [uuid_of(red["id"])]
    assert "0.5" in after["Sn1.TR"]["reason"]
    assert [after[e]["status"] for e in ("G2", "S1", "G1")] == ["FAILING"] * 3
    assert after["G3"]["status"] != "FAILING"  # the other branch is untouched
    diagram = await gql('query($id: String!) { assuranceCase(id: $id) { export(format: SVG) '
                        "{ content } } }", {"id": case_id})
    svg = ElementTree.fromstring(diagram["data"]["assuranceCase"]["export"]["content"])
    shown = {g.get("id"): g.get("data-status") for g in svg.iter(f"{SVG}g")
             if "gsn-node" in (g.get("class") or "")}
    assert shown["node-Sn1.TR"] == shown["node-G1"] == "FAILING" and shown["node-C1"] == ""
    assert svg.find(f".//{SVG}g[@id='node-Sn1.TR']/{SVG}circle").get("fill") == "#ffcdd2"

    past = await gql(f"query($id: String!, $at: DateTime!) {{ caseStatusAt(id: $id, at: $at) "
                     f"{{ {FIELDS} }} }}", {"id": case_id, "at": moment.isoformat()})
    then = past["data"]["caseStatusAt"]
    assert by_id(then)["Sn1.TR"]["status"] == "SUPPORTED" and then["version"] == 1
    early = await gql("query($id: String!, $at: DateTime!) { caseStatusAt(id: $id, at: $at) "
                      "{ status version } }", {"id": case_id,
                                                 "at": (moment - timedelta(days=1)).isoformat()})
    assert early["data"]["caseStatusAt"] == {"status": "MISSING", "version": 0}
