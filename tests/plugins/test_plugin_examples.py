"""The example plugins (examples/plugins/) registered and run end to end through the
public GraphQL path, with the real sandbox: one of each type."""

from __future__ import annotations

import json

from conftest import REPO_ROOT, GraphQLClient
from plugin_kit import REGISTER, execute

EXAMPLES = REPO_ROOT / "examples" / "plugins"

SUBMIT = """
mutation($type: String!, $data: JSON!) {
  submitEvidence(input: {type: $type, source: "ci", project: "acme/app", data: $data}) {
    evidence { id } errors { message }
  }
}"""


async def register_example(gql: GraphQLClient, name: str) -> dict:
    manifest = json.loads((EXAMPLES / f"{name}.manifest.json").read_text())
    code = (EXAMPLES / f"{name}.py").read_text()
    payload = (await gql(REGISTER, {"input": {"manifest": manifest, "code": code}}))["data"][
        "registerPlugin"]
    assert payload["errors"] == [], payload
    return payload["plugin"]


async def submit(gql: GraphQLClient, kind: str, data: dict) -> None:
    answer = await gql(SUBMIT, {"type": kind, "data": data})
    assert answer["data"]["submitEvidence"]["errors"] == []


async def test_the_collector_example_writes_drafts(gql: GraphQLClient):
    plugin = await register_example(gql, "sbom_collector")
    sbom = {"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [
        {"type": "library", "name": "left-pad", "licenses": [{"license": {"id": "MIT"}}]},
        {"type": "library", "name": "db", "licenses": [{"license": {"id": "SSPL-1.0"}}]},
    ]}
    payload = (await execute(gql, plugin["pluginId"], input={"sbom": sbom},
                             project="acme/app"))["data"]["executePlugin"]
    assert payload["errors"] == [], payload
    assert sorted(item["type"] for item in payload["evidence"]) == [
        "license_finding", "sbom_summary"]


async def test_the_metric_example_reads_evidence_and_writes_metrics(gql: GraphQLClient):
    plugin = await register_example(gql, "coverage_gate")
    for rate in (0.7, 0.85):
        await submit(gql, "coverage_report", {"line_rate": rate})
    payload = (await execute(gql, plugin["pluginId"], project="acme/app",
                             evidence={"type": "coverage_report"}))["data"]["executePlugin"]
    assert payload["errors"] == [], payload
    values = {metric["name"]: metric["value"] for metric in payload["metrics"]}
    assert values["coverage.line_percent"] == 85.0 and values["coverage.gate_passed"] == 1


async def test_the_compliance_example_stores_a_compliance_check(gql: GraphQLClient):
    plugin = await register_example(gql, "ssdf_check")
    await submit(gql, "sbom", {"components": 3})
    payload = (await execute(gql, plugin["pluginId"], version="2.1.0-rc.1",
                             project="acme/app", evidence={"project": "acme/app"}))["data"][
        "executePlugin"]
    assert payload["errors"] == [], payload
    [check] = payload["evidence"]
    statuses = {r["control"]: r["status"] for r in check["data"]["results"]}
    assert statuses["PS.3.2"] == "pass" and statuses["PW.8.2"] == "fail"


async def test_the_visualization_example_draws_a_valid_panel(gql: GraphQLClient):
    plugin = await register_example(gql, "test_trend_panel")
    for passed in (10, 12):
        await submit(gql, "test_report", {"passed": passed, "failed": 1, "skipped": 0})
    payload = (await execute(gql, plugin["pluginId"],
                             evidence={"type": "test_report"}))["data"]["executePlugin"]
    assert payload["errors"] == [], payload
    assert payload["panel"]["kind"] == "combo"
    assert payload["panel"]["series"][0]["values"] == [10, 12]
