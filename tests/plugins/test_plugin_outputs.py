"""Each plugin type's output as the host applies it, and what the plugin may read."""

from __future__ import annotations

import asyncio

from conftest import GraphQLClient, RunningApp
from plugin_kit import execute, node_key, register

from arcos.graphql.context import ArcosContext

READER_CODE = """
def collect(data):
    return {"evidence": [{"type": "summary",
                          "data": {"count": len(data["evidence"]),
                                   "types": sorted(item["type"] for item in data["evidence"])}}]}
"""

COMPLIANCE_CODE = """
def check(data):
    return [{"control": "NIST-800-53:SI-2", "status": "pass",
             "evidence_ids": data["cite"], "note": "patched"},
            {"control": "NIST-800-53:AC-2", "status": "fail"}]
"""

PANEL_CODE = """
def draw():
    return {"kind": "line", "title": "Coverage", "labels": ["mon", "tue"],
            "series": [{"name": "line", "values": [0.8, 0.82]}]}
"""

BAD_PANEL_CODE = """
def draw():
    return {"kind": "html", "series": [{"name": "<script>", "values": []}]}
"""

SUBMIT = """
mutation($type: String!) {
  submitEvidence(input: {type: $type, source: "ci", project: "acme/app", data: {v: 1}}) {
    evidence { id }
  }
}"""


async def test_evidence_read_hands_in_what_the_filter_selects(gql: GraphQLClient):
    for kind in ("build", "build", "deploy"):
        await gql(SUBMIT, {"type": kind})
    await register(gql, code=READER_CODE, permissions=("evidence.read", "evidence.write"))
    payload = (await execute(gql, "acme.coverage_gate", evidence={"type": "build"},
                             evidenceLimit=5))["data"]["executePlugin"]
    assert payload["errors"] == []
    assert payload["evidence"][0]["data"] == {"count": 2, "types": ["build", "build"]}


async def test_evidence_read_needs_the_permission(gql: GraphQLClient, app: RunningApp):
    await register(gql, code=READER_CODE, permissions=("evidence.write",))
    payload = (await execute(gql, "acme.coverage_gate", evidence={"type": "build"}))["data"][
        "executePlugin"]
    assert payload["execution"] is None
    assert "evidence.read" in payload["errors"][0]["message"]


async def test_compliance_results_are_stored_as_compliance_check_evidence(gql: GraphQLClient):
    cited = (await gql(SUBMIT, {"type": "patch"}))["data"]["submitEvidence"]["evidence"]["id"]
    await register(gql, code=COMPLIANCE_CODE, kind="compliance", entry_point="check",
                   permissions=("evidence.write",))
    payload = (await execute(gql, "acme.coverage_gate", input={"cite": [node_key(cited)]},
                             project="acme/app"))["data"]["executePlugin"]
    assert payload["errors"] == []
    stored = payload["evidence"][0]
    assert stored["type"] == "compliance_check"
    assert stored["data"]["summary"]["pass"] == 1 and stored["data"]["summary"]["fail"] == 1
    links = await gql('query($id: ID!) { evidence(id: $id) { relations { relation to { id } } } }',
                      {"id": stored["id"]})
    assert links["data"]["evidence"]["relations"] == [
        {"relation": "DERIVED_FROM", "to": {"id": cited}}]


async def test_a_visualization_panel_is_validated_and_stored(gql: GraphQLClient):
    await register(gql, code=PANEL_CODE, kind="visualization", entry_point="draw",
                   permissions=())
    payload = (await execute(gql, "acme.coverage_gate"))["data"]["executePlugin"]
    assert payload["panel"]["kind"] == "line" and payload["errors"] == []
    await register(gql, code=BAD_PANEL_CODE, kind="visualization", entry_point="draw",
                   permissions=(), plugin_id="acme.bad_panel")
    refused = (await execute(gql, "acme.bad_panel"))["data"]["executePlugin"]
    assert refused["execution"]["status"] == "OUTPUT_REFUSED"
    assert "pluginPanelSchema" in refused["errors"][0]["message"]
    schema = (await gql("{ pluginPanelSchema }"))["data"]["pluginPanelSchema"]
    assert schema["required"] == ["kind", "series"]


async def test_malformed_drafts_write_nothing_and_are_recorded(gql: GraphQLClient):
    code = ('def collect():\n    return [{"type": "ok", "data": {"a": 1}}, '
            '{"type": "Bad Type", "data": 5}]\n')
    await register(gql, code=code)
    payload = (await execute(gql, "acme.coverage_gate"))["data"]["executePlugin"]
    assert payload["execution"]["status"] == "OUTPUT_REFUSED" and payload["evidence"] == []
    fields = {error["field"] for error in payload["errors"]}
    assert {"result.evidence.1.type", "result.evidence.1.data"} <= fields
    stored = await gql("{ evidenceConnection { totalCount } }")
    assert stored["data"]["evidenceConnection"]["totalCount"] == 0


async def test_finished_executions_are_published_to_subscribers(
    app: RunningApp, gql: GraphQLClient
):
    from arcos.auth.transport import caller_from_authorization

    await register(gql, permissions=())
    services = app.app.state.services
    caller = await caller_from_authorization(f"Bearer {app.admin_token}", False)
    context = ArcosContext.of(services, caller)
    stream = await app.app.state.schema.subscribe(
        'subscription { pluginExecutionFinished(plugin: "acme.coverage_gate") '
        "{ pluginId status trigger } }", context_value=context)
    first = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.05)  # subscribed before the execution commits
    await execute(gql, "acme.coverage_gate")
    event = await asyncio.wait_for(first, 10)
    await stream.aclose()
    assert event.data == {"pluginExecutionFinished": {
        "pluginId": "acme.coverage_gate", "status": "SUCCEEDED", "trigger": "CALL"}}
