"""Industry and compliance templates over GraphQL and REST: the built-ins for every reader,
custom templates validated (every problem naming its field, nothing stored), visibility
honoured in lists, counts, look-ups and node(id), anonymised sharing scrubbed."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator

import pytest
from conftest import GraphQLClient, RunningApp, running_app

from arcos.community.templates_models import ComplianceTemplate, IndustryTemplate

ARGUMENT = [
    {"id": "G1", "type": "goal", "text": "Payments are secure.", "supportedBy": ["S1"],
     "inContextOf": ["C1"]},
    {"id": "C1", "type": "context", "text": "The card-data environment."},
    {"id": "S1", "type": "strategy", "text": "Argue over requirement 6.",
     "supportedBy": ["G2"]},
    {"id": "G2", "type": "goal", "text": "Changes are reviewed.", "supportedBy": ["Sn1"]},
    {"id": "Sn1", "type": "solution", "text": "Code reviews.",
     "evidenceTypes": ["code_review"]},
]
INDUSTRY = {"key": "acme-payments", "name": "ACME payments", "description": "Our shop.",
            "standards": [{"name": "PCI DSS v4.0.1", "note": "Req. 6"}],
            "requirements": ["Review every change."], "frameworks": ["pci-dss"],
            "argument": ARGUMENT}
CONTROLS = [{"id": "RG-1", "title": "Tests pass", "checklist": "Did the tests pass?",
             "checks": [{"kind": "metric", "expression": "tests.pass_rate >= 0.95"}]}]
ADD_INDUSTRY = """mutation($i: AddIndustryTemplateInput!) { addIndustryTemplate(input: $i) {
  template { id key name description builtIn visibility anonymized author { name } evidenceTypes
             argument { id supportedBy } openItems }
  errors { field message code } } }"""
ADD_COMPLIANCE = """mutation($i: AddComplianceTemplateInput!) { addComplianceTemplate(input: $i) {
  template { id key builtIn visibility controls { controlId checks { kind expression days } } }
  errors { field message code } } }"""
LIST = """{ industryTemplates(first: 100) { totalCount nodes { id key builtIn } }
            complianceTemplates(first: 100) { totalCount nodes { id key builtIn } } }"""


@pytest.fixture
async def open_app(settings) -> AsyncIterator[RunningApp]:
    async with running_app(settings.replace(anonymous_read=True)) as running:
        yield running


async def client_for(app: RunningApp, token: str | None) -> GraphQLClient:
    return GraphQLClient(app.client(token))


async def keys(gql: GraphQLClient) -> tuple[int, list[str], int, list[str]]:
    data = (await gql(LIST))["data"]
    industries, frameworks = data["industryTemplates"], data["complianceTemplates"]
    return (industries["totalCount"], [n["key"] for n in industries["nodes"]],
            frameworks["totalCount"], [n["key"] for n in frameworks["nodes"]])


async def test_built_ins_are_served_to_every_reader(open_app):
    anonymous = await client_for(open_app, None)
    total, industries, frameworks_total, frameworks = await keys(anonymous)
    assert (total, frameworks_total) == (8, 8)
    assert industries[0] == "healthcare" and "government" in industries
    assert frameworks == ["soc2", "pci-dss", "hipaa", "iso27001", "gdpr", "nist-800-53",
                          "cis-controls", "fedramp"]
    body = await anonymous("""{ industryTemplate(key: "automotive") { id name builtIn
        visibility author { name } standards { name } evidenceTypes argument { id type } }
        complianceTemplate(key: "pci-dss") { id controls { controlId title checklist } } }""")
    automotive = body["data"]["industryTemplate"]
    assert automotive["builtIn"] and automotive["visibility"] == "PUBLIC"
    assert automotive["author"] is None
    assert [n["id"] for n in automotive["argument"]] == ["G1", "C1", "S1", "G2", "G3", "Sn1",
                                                         "Sn2", "Sn3"]
    assert any("26262" in s["name"] for s in automotive["standards"])
    controls = body["data"]["complianceTemplate"]["controls"]
    assert {"controlId": "6.3.2", "title": "Inventory of bespoke software and third-party "
            "components", "checklist": "Is there a current inventory (SBOM) of the software's "
            "components?"} in controls
    node = await anonymous("query($id: ID!) { node(id: $id) { ... on IndustryTemplate { key } } }",
                           {"id": automotive["id"]})
    assert node["data"]["node"] == {"key": "automotive"}


async def test_paging_runs_from_built_ins_into_custom_templates(app, gql):
    for index in range(3):
        added = await gql(ADD_COMPLIANCE, {"i": {"key": f"gate-{index}", "name": "Gate",
                                                 "controls": CONTROLS}})
        assert added["data"]["addComplianceTemplate"]["errors"] == []
    seen, after = [], None
    while True:
        page = (await gql("query($a: String) { complianceTemplates(first: 3, after: $a) { "
                          "totalCount pageInfo { hasNextPage endCursor } nodes { key } } }",
                          {"a": after}))["data"]["complianceTemplates"]
        assert page["totalCount"] == 11
        seen += [node["key"] for node in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen[8:] == ["gate-0", "gate-1", "gate-2"] and len(seen) == 11


async def test_visibility_of_custom_templates(open_app):
    alice = await client_for(open_app, await open_app.issue("alice", "community:read",
                                                            "community:write"))
    bob = await client_for(open_app, await open_app.issue("bob", "community:read"))
    admin = await client_for(open_app, open_app.admin_token)
    anonymous = await client_for(open_app, None)
    ids = {}
    for visibility in ("PUBLIC", "COMMUNITY", "PRIVATE"):
        draft = {**INDUSTRY, "key": f"acme-{visibility.lower()}", "visibility": visibility}
        body = await alice(ADD_INDUSTRY, {"i": draft})
        payload = body["data"]["addIndustryTemplate"]
        assert payload["errors"] == [], payload
        assert payload["template"]["author"] == {"name": "alice"}
        ids[visibility] = payload["template"]["id"]
    expected = {alice: ["PUBLIC", "COMMUNITY", "PRIVATE"], bob: ["PUBLIC", "COMMUNITY"],
                anonymous: ["PUBLIC"], admin: ["PUBLIC", "COMMUNITY", "PRIVATE"]}
    for reader, visible in expected.items():
        total, industries, _, _ = await keys(reader)
        assert total == 8 + len(visible)
        assert industries[8:] == [f"acme-{v.lower()}" for v in visible]
        for visibility, global_id in ids.items():
            found = await reader("query($id: ID!) { node(id: $id) { ... on IndustryTemplate { "
                                 "key } } industryTemplate(id: $id) { key } }", {"id": global_id})
            shown = visibility in visible
            assert (found["data"]["node"] is not None) is shown, (visibility, found)
            assert (found["data"]["industryTemplate"] is not None) is shown
    # By key, a custom template is found only among the caller's own.
    mine = await alice('{ industryTemplate(key: "acme-private") { key } }')
    assert mine["data"]["industryTemplate"] == {"key": "acme-private"}
    theirs = await bob('{ industryTemplate(key: "acme-community") { key } }')
    assert theirs["data"]["industryTemplate"] is None
    # Withdrawn (foundation mutation): nobody lists it any more.
    withdrawn = await alice("mutation($id: ID!) { withdrawCommunityItem(id: $id) { errors { "
                            "message } } }", {"id": ids["PUBLIC"]})
    assert withdrawn["data"]["withdrawCommunityItem"]["errors"] == []
    assert (await keys(anonymous))[0] == 8


async def test_anonymised_template_is_scrubbed_and_authorless(app, gql):
    alice = await client_for(app, await app.issue("alice", "community:read", "community:write"))
    bob = await client_for(app, await app.issue("bob", "community:read"))
    draft = {**INDUSTRY, "description": "Ask alice@acme.example or see https://wiki.acme.example",
             "visibility": "COMMUNITY", "anonymize": True}
    body = await alice(ADD_INDUSTRY, {"i": draft})
    template = body["data"]["addIndustryTemplate"]["template"]
    assert template["anonymized"] and template["author"] is None
    assert "alice@acme.example" not in template["description"]
    assert "[redacted:email]" in template["description"]
    assert "[redacted:url]" in template["description"]
    stored = await IndustryTemplate.get(key="acme-payments")
    assert "alice@" not in stored.description and stored.owner == "alice"
    seen = await bob('{ industryTemplates(first: 20) { nodes { key author { name } } } }')
    assert {"key": "acme-payments", "author": None} in seen["data"]["industryTemplates"]["nodes"]
    admin_view = await gql('{ industryTemplates(first: 20) { nodes { key author { name } } } }')
    assert {"key": "acme-payments", "author": {"name": "alice"}} in \
        admin_view["data"]["industryTemplates"]["nodes"]


async def test_bad_industry_templates_name_each_problem_and_store_nothing(app, gql):
    broken = copy.deepcopy(ARGUMENT)
    broken[2]["supportedBy"] = ["G2", "Sn1"]  # a strategy cannot rest on a solution
    broken[3]["supportedBy"] = ["Sn1", "Sn9"]  # Sn9 does not exist
    draft = {**INDUSTRY, "key": "Bad Key", "name": "", "argument": broken,
             "frameworks": ["sox"]}
    errors = (await gql(ADD_INDUSTRY, {"i": draft}))["data"]["addIndustryTemplate"]["errors"]
    by_field = {error["field"]: error for error in errors}
    assert set(by_field) == {"key", "name", "frameworks", "argument.2.supportedBy",
                             "argument.3.supportedBy"}
    assert "S1 (strategy) cannot be supportedBy Sn1" in by_field["argument.2.supportedBy"][
        "message"]
    assert "Sn9" in by_field["argument.3.supportedBy"]["message"]
    clash = await gql(ADD_INDUSTRY, {"i": {**INDUSTRY, "key": "healthcare"}})
    assert clash["data"]["addIndustryTemplate"]["errors"][0]["code"] == "CONFLICT"
    nul = copy.deepcopy(ARGUMENT)
    nul[1]["text"] = "card\u0000data"
    unstorable = await gql(ADD_INDUSTRY, {"i": {**INDUSTRY, "name": "A\u0000B", "argument": nul}})
    assert [e["field"] for e in unstorable["data"]["addIndustryTemplate"]["errors"]] == [
        "name", "argument.1.text"]
    not_a_list = await gql(ADD_INDUSTRY, {"i": {**INDUSTRY, "argument": {"G1": {}}}})
    assert not_a_list["data"]["addIndustryTemplate"]["errors"][0]["field"] == "argument"
    assert await IndustryTemplate.all().count() == 0
    first = await gql(ADD_INDUSTRY, {"i": INDUSTRY})
    assert first["data"]["addIndustryTemplate"]["errors"] == []
    again = await gql(ADD_INDUSTRY, {"i": INDUSTRY})
    error = again["data"]["addIndustryTemplate"]["errors"][0]
    assert (error["field"], error["code"]) == ("key", "CONFLICT")
    assert await IndustryTemplate.all().count() == 1


@pytest.mark.parametrize(("check", "field", "words"), [
    ({"kind": "vibes"}, "controls.0.checks.0.kind", "unknown check kind"),
    ({"kind": "metric", "expression": "tests.pass_rate ~ 0.9"}, "controls.0.checks.0.expression",
     "operators: >= <= == != > <"),
    ({"kind": "metric", "expression": "Tests Pass >= 0.9"}, "controls.0.checks.0.expression",
     "<metric> <op> <number>"),
    ({"kind": "metric", "expression": "tests.PassRate >= 0.9"},
     "controls.0.checks.0.expression", "is not a metric name"),
    ({"kind": "metric", "expression": "tests.pass_rate >= lots"},
     "controls.0.checks.0.expression", "is not a number"),
    ({"kind": "metric"}, "controls.0.checks.0.expression", "give the condition"),
    ({"kind": "evidence", "types": ["test_results"], "days": 0}, "controls.0.checks.0.days",
     "days must be a whole number from 1"),
    ({"kind": "evidence", "types": []}, "controls.0.checks.0.types", "give 1 to 8"),
    ({"kind": "sbom", "types": ["sbom"]}, "controls.0.checks.0.types", "takes only"),
])
async def test_bad_checks_name_their_field(app, gql, check, field, words):
    controls = [{**CONTROLS[0], "checks": [check]}]
    body = await gql(ADD_COMPLIANCE, {"i": {"key": "gate", "name": "Gate", "controls": controls}})
    errors = body["data"]["addComplianceTemplate"]["errors"]
    assert [error["field"] for error in errors] == [field], errors
    assert words in errors[0]["message"]
    assert await ComplianceTemplate.all().count() == 0


async def test_bad_controls_name_their_field(app, gql):
    controls = [CONTROLS[0], {"id": "RG-1", "title": "", "checklist": "?", "checks": []}]
    body = await gql(ADD_COMPLIANCE, {"i": {"key": "gate", "name": "Gate", "controls": controls}})
    fields = [e["field"] for e in body["data"]["addComplianceTemplate"]["errors"]]
    assert fields == ["controls.1.id", "controls.1.title", "controls.1.checks"]
    good = await gql(ADD_COMPLIANCE, {"i": {"key": "gate", "name": "Gate", "controls": CONTROLS}})
    template = good["data"]["addComplianceTemplate"]["template"]
    assert template["controls"][0]["checks"] == [
        {"kind": "METRIC", "expression": "tests.pass_rate >= 0.95", "days": 90}]


async def test_rest_routes(app, client):
    body = {"template": {**INDUSTRY, "argument": [
        {"id": "G1", "type": "goal", "text": "Payments are secure.", "supported_by": ["Sn1"],
         "in_context_of": ["C1"]},
        {"id": "C1", "type": "context", "text": "The card-data environment."},
        {"id": "Sn1", "type": "solution", "text": "Reviews.", "evidence_types": ["code_review"]},
    ]}, "permission": "community", "anonymize": False}
    added = await client.post("/api/community/templates/industry/add", json=body)
    assert added.status_code == 201, added.text
    answer = added.json()
    assert answer["success"] and answer["template_id"] == answer["template"]["id"]
    assert answer["template"]["visibility"] == "COMMUNITY"
    assert answer["template"]["frameworks"] == ["pci-dss"]
    listed = (await client.get("/api/community/templates/industry/list")).json()
    assert listed["count"] == 9 and listed["templates"][8]["key"] == "acme-payments"

    bad = {"template": {"key": "gate", "name": "Gate", "controls": [
        {**CONTROLS[0], "checks": [{"kind": "metric", "expression": "x >= 1"}]}]}}
    refused = await client.post("/api/community/templates/compliance/add", json=bad)
    assert refused.status_code == 422
    assert refused.json()["success"] is False
    assert refused.json()["errors"][0]["extensions"]["field"] == "controls.0.checks.0.expression"
    unknown = await client.post("/api/community/templates/compliance/add",
                                json={"template": {}, "permission": "everyone"})
    assert unknown.status_code == 400 and "permission must be one of" in unknown.text
    added = await client.post("/api/community/templates/compliance/add", json={
        "template": {"key": "gate", "name": "Gate", "controls": CONTROLS}})
    assert added.status_code == 201 and added.json()["template"]["visibility"] == "PRIVATE"
    listed = (await client.get("/api/community/templates/compliance/list")).json()
    assert listed["count"] == 9

    await client.post("/api/v1/evidence", json={
        "type": "code_review", "source": "github", "project": "github.com/acme/app",
        "data": {"state": "approved"}})
    status = await client.get("/api/community/compliance/pci-dss/status",
                              params={"project": "github.com/acme/app"})
    assert status.status_code == 200, status.text
    controls = {c["controlId"]: c for c in status.json()["status"]["controls"]}
    assert controls["6.2.3"]["status"] == "SATISFIED"
    assert controls["6.3.2"]["status"] == "MISSING"
    missing = await client.get("/api/community/compliance/nope/status",
                               params={"project": "github.com/acme/app"})
    assert missing.status_code == 404
    checklist = await client.get("/api/community/compliance/soc2/checklist",
                                 params={"format": "csv"})
    assert checklist.status_code == 200
    assert checklist.json()["checklist"].startswith("control,title,question,evidence\n")
    openapi = (await client.get("/api/openapi.json")).json()
    for path in ("/api/community/templates/industry/add", "/api/community/templates/industry/list",
                 "/api/community/templates/compliance/add",
                 "/api/community/templates/compliance/list",
                 "/api/community/compliance/{framework}/status",
                 "/api/community/compliance/{framework}/checklist"):
        assert path in openapi["paths"], path


async def test_writing_needs_community_write(app):
    reader = await client_for(app, await app.issue("reader", "community:read"))
    body = await reader(ADD_INDUSTRY, {"i": INDUSTRY})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    nobody = await client_for(app, await app.issue("outsider", "evidence:read"))
    body = await nobody(LIST)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_anonymised_identifiers_that_would_be_redacted_are_refused(settings):
    async with running_app(settings.replace(community_redact_names="Globex")) as running:
        gql = await client_for(running, running.admin_token)
        body = await gql(ADD_INDUSTRY, {"i": {**INDUSTRY, "key": "globex-bank",
                                              "anonymize": True}})
        errors = body["data"]["addIndustryTemplate"]["errors"]
        assert [(e["field"], e["code"]) for e in errors] == [("key", "INVALID")]
        assert "choose a neutral identifier" in errors[0]["message"]
        body = await gql(ADD_COMPLIANCE, {"i": {
            "key": "bank-gate", "name": "Globex gate", "anonymize": True,
            "controls": [{**CONTROLS[0], "id": "6.2.3.1"}]}})
        template = body["data"]["addComplianceTemplate"]["template"]
        assert template["controls"][0]["controlId"] == "6.2.3.1"
        assert await IndustryTemplate.all().count() == 0


async def test_a_template_names_a_bounded_set_of_evidence_types_and_metrics(app, gql):
    controls = [{"id": f"C{c}", "title": "t", "checklist": "q?",
                 "checks": [{"kind": "metric", "expression": f"custom.m{c}_{i} >= 1"}
                            for i in range(20)]} for c in range(11)]
    body = await gql(ADD_COMPLIANCE, {"i": {"key": "wide", "name": "Wide",
                                            "controls": controls}})
    errors = body["data"]["addComplianceTemplate"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("controls", "TOO_LARGE")]
    assert "at most 200 distinct" in errors[0]["message"]


async def test_a_private_framework_is_evaluated_only_for_those_who_may_read_it(app, gql):
    scopes = ("community:read", "community:write", "evidence:read")
    alice = await client_for(app, await app.issue("alice", *scopes))
    bob = await client_for(app, await app.issue("bob", *scopes))
    await gql("mutation { submitEvidence(input: {type: \"test_results\", source: \"ci\", "
              "project: \"acme/app\", data: {}}) { errors { code } } }")
    added = await alice(ADD_COMPLIANCE, {"i": {"key": "gate", "name": "Gate",
                                               "controls": CONTROLS}})
    global_id = added["data"]["addComplianceTemplate"]["template"]["id"]
    query = ("query($f: String!) { complianceStatus(project: \"acme/app\", framework: $f) { "
             "controls { controlId status } } }")
    for framework in ("gate", global_id):
        mine = await alice(query, {"f": framework})
        assert mine["data"]["complianceStatus"]["controls"] == [
            {"controlId": "RG-1", "status": "MISSING"}], mine
        theirs = await bob(query, {"f": framework})
        assert theirs["errors"][0]["extensions"]["code"] == "NOT_FOUND"
