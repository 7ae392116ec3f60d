"""Owners edit the custom templates they added (admins: any): partial input, checked exactly
as an add (GSN rules, controls and checks), refused with a coded error naming its field and
nothing written; built-ins and other people's templates are refused; what cannot be read is
NOT_FOUND; complianceStatus and the checklist export read the edited controls."""

from __future__ import annotations

import asyncio
import copy
import csv
import io
from typing import Any

import pytest
from conftest import GraphQLClient, RunningApp
from strawberry import relay
from test_templates_api import ADD_COMPLIANCE, ADD_INDUSTRY, CONTROLS, INDUSTRY, client_for

from arcos.community.templates_models import ComplianceTemplate, IndustryTemplate

TEMPLATE_FIELDS = """id key name description visibility anonymized standards { name note }
  requirements frameworks argument { id type text supportedBy undeveloped } openItems"""
UPDATE_INDUSTRY = f"""mutation($id: String!, $i: UpdateIndustryTemplateInput!) {{
  updateIndustryTemplate(id: $id, input: $i) {{
    template {{ {TEMPLATE_FIELDS} }} errors {{ field message code }} }} }}"""
UPDATE_COMPLIANCE = """mutation($id: String!, $i: UpdateComplianceTemplateInput!) {
  updateComplianceTemplate(id: $id, input: $i) {
    template { id key name version description visibility controls { controlId title
               checks { kind types expression days } } }
    errors { field message code } } }"""
READ_INDUSTRY = f"query($id: ID!) {{ industryTemplate(id: $id) {{ {TEMPLATE_FIELDS} }} }}"
STATUS = """query($f: String!) { complianceStatus(project: "acme/app", framework: $f) {
  controls { controlId status } } }"""
CHECKLIST = 'query($f: String!) { complianceChecklist(framework: $f, format: CSV) }'
ARGUMENT = INDUSTRY["argument"]
#: The argument with one more goal left undeveloped under the strategy.
GROWN = [*ARGUMENT[:2], {**ARGUMENT[2], "supportedBy": ["G2", "G3"]}, *ARGUMENT[3:],
         {"id": "G3", "type": "goal", "text": "Releases are signed.", "undeveloped": True}]
REVIEWED = [{"id": "CR-9", "title": "Reviews", "checklist": "Are changes reviewed?",
             "checks": [{"kind": "evidence", "types": ["code_review"], "days": 30}]}]


def uid_of(global_id: str) -> str:
    return relay.GlobalID.from_id(global_id).node_id


async def add(gql: GraphQLClient, mutation: str, field: str, draft: dict[str, Any]) -> str:
    body = await gql(mutation, {"i": draft})
    payload = body["data"][field]
    assert payload["errors"] == [], payload
    return payload["template"]["id"]


async def edit(gql: GraphQLClient, mutation: str, global_id: str,
               changes: dict[str, Any]) -> dict[str, Any]:
    body = await gql(mutation, {"id": global_id, "i": changes})
    assert "errors" not in body, body
    return next(iter(body["data"].values()))


async def stored(model: Any, global_id: str) -> dict[str, Any]:
    """Every column of the row, to show a refused edit wrote nothing."""
    row = await model.get(uid=uid_of(global_id))
    return {name: getattr(row, name) for name in row._meta.fields_map}


async def alice_and_bob(app: RunningApp) -> tuple[GraphQLClient, GraphQLClient]:
    scopes = ("community:read", "community:write", "evidence:read")
    return (await client_for(app, await app.issue("alice", *scopes)),
            await client_for(app, await app.issue("bob", *scopes)))


async def test_an_owner_edits_an_industry_template_and_reads_it_back(app):
    alice, _ = await alice_and_bob(app)
    global_id = await add(alice, ADD_INDUSTRY, "addIndustryTemplate", INDUSTRY)
    payload = await edit(alice, UPDATE_INDUSTRY, global_id, {
        "name": "ACME card payments", "argument": GROWN, "visibility": "COMMUNITY",
        "standards": [{"name": "PCI DSS v4.0.1", "note": "Req. 6 and 8"}],
        "frameworks": ["pci-dss", "soc2"]})
    assert payload["errors"] == []
    template = payload["template"]
    assert template["id"] == global_id
    assert (template["name"], template["visibility"]) == ("ACME card payments", "COMMUNITY")
    assert template["openItems"] == ["G3"]
    assert (template["key"], template["description"]) == (INDUSTRY["key"], "Our shop.")
    assert template["requirements"] == INDUSTRY["requirements"]
    assert template["frameworks"] == ["pci-dss", "soc2"]
    read = (await alice(READ_INDUSTRY, {"id": global_id}))["data"]["industryTemplate"]
    assert read == template
    assert [n["id"] for n in read["argument"]] == ["G1", "C1", "S1", "G2", "Sn1", "G3"]
    # Partial: only the description changes; everything else stays as edited.
    partial = await edit(alice, UPDATE_INDUSTRY, global_id, {"description": "Card shop."})
    assert partial["errors"] == []
    assert partial["template"] == {**template, "description": "Card shop."}
    assert await IndustryTemplate.all().count() == 1


async def test_a_partial_compliance_edit_keeps_the_rest_and_status_follows_the_controls(
        app, gql):
    alice, _ = await alice_and_bob(app)
    global_id = await add(alice, ADD_COMPLIANCE, "addComplianceTemplate",
                          {"key": "gate", "name": "Gate", "version": "1", "description": "Ours.",
                           "controls": CONTROLS})
    submitted = await gql('mutation { submitEvidence(input: {type: "code_review", source: '
                          '"github", project: "acme/app", data: {state: "approved"}}) { '
                          'errors { code } } }')
    assert submitted["data"]["submitEvidence"]["errors"] == []
    before = (await alice(STATUS, {"f": "gate"}))["data"]["complianceStatus"]["controls"]
    assert before == [{"controlId": "RG-1", "status": "MISSING"}]

    renamed = await edit(alice, UPDATE_COMPLIANCE, global_id, {"name": "Release gate"})
    assert renamed["errors"] == []
    kept = renamed["template"]
    assert (kept["name"], kept["version"], kept["description"]) == ("Release gate", "1", "Ours.")
    assert [c["controlId"] for c in renamed["template"]["controls"]] == ["RG-1"]

    edited = await edit(alice, UPDATE_COMPLIANCE, global_id,
                        {"controls": [*CONTROLS, *REVIEWED]})
    assert edited["errors"] == []
    assert edited["template"]["name"] == "Release gate"
    for framework in ("gate", global_id):
        after = (await alice(STATUS, {"f": framework}))["data"]["complianceStatus"]["controls"]
        assert after == [{"controlId": "RG-1", "status": "MISSING"},
                         {"controlId": "CR-9", "status": "SATISFIED"}]
    text = (await alice(CHECKLIST, {"f": "gate"}))["data"]["complianceChecklist"]
    assert [row["control"] for row in csv.DictReader(io.StringIO(text))] == ["RG-1", "CR-9"]


async def test_only_the_owner_or_an_admin_may_edit(app, gql):
    alice, bob = await alice_and_bob(app)
    global_id = await add(alice, ADD_INDUSTRY, "addIndustryTemplate",
                          {**INDUSTRY, "visibility": "COMMUNITY"})
    framework_id = await add(alice, ADD_COMPLIANCE, "addComplianceTemplate", {
        "key": "gate", "name": "Gate", "controls": CONTROLS, "visibility": "PUBLIC"})
    before = await stored(IndustryTemplate, global_id)
    refused = await edit(bob, UPDATE_INDUSTRY, global_id, {"name": "Bob's now"})
    assert refused["template"] is None
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("id", "INVALID")]
    assert "only its owner or an admin" in refused["errors"][0]["message"]
    assert await stored(IndustryTemplate, global_id) == before
    refused = await edit(bob, UPDATE_COMPLIANCE, framework_id, {"controls": REVIEWED})
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("id", "INVALID")]
    assert (await ComplianceTemplate.get(uid=uid_of(framework_id))).controls[0]["id"] == "RG-1"
    by_admin = await edit(gql, UPDATE_INDUSTRY, global_id, {"name": "Moderated"})
    assert by_admin["errors"] == [] and by_admin["template"]["name"] == "Moderated"
    assert (await IndustryTemplate.get(uid=uid_of(global_id))).owner == "alice"


async def test_built_ins_are_not_editable(app, gql):
    built_ins = (await gql('{ industryTemplate(key: "healthcare") { id } '
                           'complianceTemplate(key: "soc2") { id } }'))["data"]
    for mutation, global_id, changes in (
            (UPDATE_INDUSTRY, built_ins["industryTemplate"]["id"], {"name": "Mine"}),
            (UPDATE_COMPLIANCE, built_ins["complianceTemplate"]["id"], {"name": "Mine"})):
        payload = await edit(gql, mutation, global_id, changes)
        assert payload["template"] is None
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [("id", "INVALID")]
        assert "built-in" in payload["errors"][0]["message"]
    name = (await gql('{ industryTemplate(key: "healthcare") { name } }'))["data"]
    assert name["industryTemplate"]["name"] != "Mine"


async def test_what_the_caller_cannot_read_is_not_found(app):
    alice, bob = await alice_and_bob(app)
    private = await add(alice, ADD_INDUSTRY, "addIndustryTemplate", INDUSTRY)
    before = await stored(IndustryTemplate, private)
    missing = relay.to_base64("IndustryTemplate", "00000000-0000-0000-0000-000000000000")
    for global_id in (private, missing):
        payload = await edit(bob, UPDATE_INDUSTRY, global_id, {"name": "Found it"})
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [("id", "NOT_FOUND")]
    assert await stored(IndustryTemplate, private) == before
    # Another kind's id, or no id at all, is a malformed argument.
    for wrong in (private.replace("=", ""), relay.to_base64("ComplianceTemplate", "x"),
                  "not an id"):
        body = await bob(UPDATE_COMPLIANCE, {"id": wrong, "i": {"name": "x"}})
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
    body = await bob(UPDATE_COMPLIANCE, {"id": private, "i": {"name": "x"}})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def _cyclic() -> list[dict[str, Any]]:
    argument = copy.deepcopy(ARGUMENT)
    argument[3]["supportedBy"] = ["Sn1", "S1"]  # G2 -> S1 -> G2
    return argument


def _strategy_on_solution() -> list[dict[str, Any]]:
    argument = copy.deepcopy(ARGUMENT)
    argument[2]["supportedBy"] = ["G2", "Sn1"]
    return argument


@pytest.mark.parametrize(("changes", "field", "code"), [
    ({"argument": _strategy_on_solution()}, "argument.2.supportedBy", "INVALID"),
    ({"argument": _cyclic()}, "argument.3.supportedBy", "INVALID"),
    ({"argument": {"G1": {}}}, "argument", "INVALID"),
    ({"argument": []}, "argument", "INVALID"),
    ({"name": "A\u0000B"}, "name", "INVALID"),
    ({"name": "  "}, "name", "INVALID"),
    ({"key": "healthcare"}, "key", "CONFLICT"),
    ({"key": "Bad Key"}, "key", "INVALID"),
    ({"frameworks": ["sox"]}, "frameworks", "INVALID"),
    ({"requirements": ["ok"] * 101}, "requirements", "TOO_LARGE"),
    ({"standards": [{"name": "S"}] * 101}, "standards", "TOO_LARGE"),
    ({"description": "x" * 5001}, "description", "INVALID"),
])
async def test_bad_industry_edits_name_their_field_and_write_nothing(app, gql, changes, field,
                                                                     code):
    global_id = await add(gql, ADD_INDUSTRY, "addIndustryTemplate", INDUSTRY)
    before = await stored(IndustryTemplate, global_id)
    payload = await edit(gql, UPDATE_INDUSTRY, global_id, changes)
    assert payload["template"] is None
    problems = [(e["field"], e["code"]) for e in payload["errors"]]
    assert (field, code) in problems, payload["errors"]
    assert all(e["message"] for e in payload["errors"])
    assert await stored(IndustryTemplate, global_id) == before


def _control(**fields: Any) -> list[dict[str, Any]]:
    return [{**CONTROLS[0], **fields}]


@pytest.mark.parametrize(("changes", "field", "code"), [
    ({"controls": _control(checks=[{"kind": "vibes"}])}, "controls.0.checks.0.kind",
     "INVALID"),
    ({"controls": _control(owner="me")}, "controls.0.owner", "INVALID"),
    ({"controls": _control(checks=[{"kind": "metric", "expression": "tests.pass_rate ~ 1"}])},
     "controls.0.checks.0.expression", "INVALID"),
    ({"controls": _control(title="a\u0000b")}, "controls.0.title", "INVALID"),
    ({"controls": [CONTROLS[0], CONTROLS[0]]}, "controls.1.id", "CONFLICT"),
    ({"controls": []}, "controls", "INVALID"),
    ({"controls": "RG-1"}, "controls", "INVALID"),
    ({"controls": [{**CONTROLS[0], "id": f"C{i}"} for i in range(501)]}, "controls",
     "TOO_LARGE"),
    ({"controls": _control(checks=[CONTROLS[0]["checks"][0]] * 21)}, "controls.0.checks",
     "TOO_LARGE"),
    ({"version": "v\u0000"}, "version", "INVALID"),
    ({"key": "soc2"}, "key", "CONFLICT"),
])
async def test_bad_compliance_edits_name_their_field_and_write_nothing(app, gql, changes, field,
                                                                       code):
    global_id = await add(gql, ADD_COMPLIANCE, "addComplianceTemplate",
                          {"key": "gate", "name": "Gate", "controls": CONTROLS})
    before = await stored(ComplianceTemplate, global_id)
    payload = await edit(gql, UPDATE_COMPLIANCE, global_id, changes)
    assert payload["template"] is None
    problems = [(e["field"], e["code"]) for e in payload["errors"]]
    assert (field, code) in problems, payload["errors"]
    assert await stored(ComplianceTemplate, global_id) == before


async def test_a_key_taken_by_the_owner_is_a_conflict(app):
    alice, _ = await alice_and_bob(app)
    await add(alice, ADD_INDUSTRY, "addIndustryTemplate", INDUSTRY)
    other = await add(alice, ADD_INDUSTRY, "addIndustryTemplate", {**INDUSTRY, "key": "other"})
    payload = await edit(alice, UPDATE_INDUSTRY, other, {"key": INDUSTRY["key"]})
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("key", "CONFLICT")]
    assert (await IndustryTemplate.get(uid=uid_of(other))).key == "other"


async def test_an_anonymised_template_stays_scrubbed_when_edited(app):
    alice, bob = await alice_and_bob(app)
    global_id = await add(alice, ADD_INDUSTRY, "addIndustryTemplate", {
        **INDUSTRY, "visibility": "COMMUNITY", "anonymize": True})
    argument = copy.deepcopy(ARGUMENT)
    argument[0]["text"] = "Payments at https://pay.acme.example are secure."
    payload = await edit(alice, UPDATE_INDUSTRY, global_id, {
        "description": "Ask alice@acme.example", "argument": argument})
    assert payload["errors"] == [], payload
    template = payload["template"]
    assert template["anonymized"]
    assert "[redacted:email]" in template["description"]
    assert "acme.example" not in template["argument"][0]["text"]
    row = await IndustryTemplate.get(uid=uid_of(global_id))
    assert "alice@" not in row.description and "pay.acme" not in str(row.argument)
    seen = (await bob("query($id: ID!) { industryTemplate(id: $id) { author { name } } }",
                      {"id": global_id}))["data"]["industryTemplate"]
    assert seen == {"author": None}


async def test_concurrent_edits_of_different_fields_both_stay(app):
    """Each edit is checked from the row as read before its write; one whose row another
    edit changed meanwhile is checked again from the new row, so neither is lost."""
    alice, _ = await alice_and_bob(app)
    global_id = await add(alice, ADD_INDUSTRY, "addIndustryTemplate", INDUSTRY)
    for round_ in range(3):
        name, description = f"Name {round_}", f"Description {round_}."
        named, described = await asyncio.gather(
            edit(alice, UPDATE_INDUSTRY, global_id, {"name": name}),
            edit(alice, UPDATE_INDUSTRY, global_id, {"description": description}))
        assert named["errors"] == [] and described["errors"] == []
        read = (await alice(READ_INDUSTRY, {"id": global_id}))["data"]["industryTemplate"]
        assert (read["name"], read["description"]) == (name, description)
