"""An anonymised template's texts must still fit their limits once scrubbed, on add and on
edit: a field problem naming the text, never a 500 or an over-long row that later edits
trip over."""

from __future__ import annotations

from typing import Any

from conftest import RunningApp
from test_templates_api import ADD_COMPLIANCE, ADD_INDUSTRY, CONTROLS, INDUSTRY, client_for
from test_templates_update import UPDATE_COMPLIANCE, UPDATE_INDUSTRY, add, stored

from arcos.community.templates_models import ComplianceTemplate, IndustryTemplate

#: 51 host names: 254 characters as sent (within 255), far more once each is redacted.
GROWS = " ".join(["a.io"] * 51)


async def test_anonymised_template_names_that_outgrow_their_columns_are_refused(
        app: RunningApp) -> None:
    alice = await client_for(app, await app.issue("alice", "community:read", "community:write"))
    industry = await alice(ADD_INDUSTRY, {"i": {**INDUSTRY, "key": "k-one", "name": GROWS,
                                                "anonymize": True}})
    assert "errors" not in industry, industry
    payload = industry["data"]["addIndustryTemplate"]
    assert payload["template"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("name", "TOO_LARGE")]
    framework = await alice(ADD_COMPLIANCE, {"i": {
        "key": "k-two", "name": "Fine", "version": GROWS, "controls": CONTROLS,
        "anonymize": True}})
    assert "errors" not in framework, framework
    payload = framework["data"]["addComplianceTemplate"]
    assert payload["template"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("version", "TOO_LARGE")]


#: 1,000 characters as sent (the limit of a control title), ~2,430 once each address is
#: redacted.
ADDRESSES = ("x@y.io " * 143)[:1000]
#: The same for a requirement line, an argument node's text (2,000) and a description.
ADDRESSES_2000 = ("x@y.io " * 286)[:2000]


def _errors(body: dict[str, Any]) -> list[tuple[str, str]]:
    assert "errors" not in body, body
    payload = next(iter(body["data"].values()))
    assert payload["template"] is None, payload
    for error in payload["errors"]:
        assert "scrubbed for anonymised sharing" in error["message"], error
    return [(e["field"], e["code"]) for e in payload["errors"]]


async def _rows() -> list[tuple[str, str]]:
    return [(row.key, row.name) for model in (IndustryTemplate, ComplianceTemplate)
            for row in await model.all()]


async def test_every_anonymised_text_that_outgrows_its_limit_is_refused_on_add(
        app: RunningApp) -> None:
    alice = await client_for(app, await app.issue("alice", "community:read", "community:write"))
    argument = [{**node, "text": ADDRESSES_2000} if node["id"] == "G1" else node
                for node in INDUSTRY["argument"]]
    industry = await alice(ADD_INDUSTRY, {"i": {
        **INDUSTRY, "key": "k-one", "anonymize": True, "requirements": ["Fine.", ADDRESSES],
        "standards": [{"name": "S", "note": ADDRESSES}], "argument": argument}})
    assert _errors(industry) == [("standards.0.note", "TOO_LARGE"),
                                 ("requirements.1", "TOO_LARGE"),
                                 ("argument.0.text", "TOO_LARGE")]
    framework = await alice(ADD_COMPLIANCE, {"i": {
        "key": "k-two", "name": "Fine", "anonymize": True, "controls": [
            {**CONTROLS[0], "title": ADDRESSES, "checklist": ADDRESSES_2000}]}})
    assert _errors(framework) == [("controls.0.title", "TOO_LARGE"),
                                  ("controls.0.checklist", "TOO_LARGE")]
    assert await _rows() == []


async def test_an_edit_of_an_anonymised_template_is_checked_once_scrubbed_too(
        app: RunningApp) -> None:
    alice = await client_for(app, await app.issue("alice", "community:read", "community:write"))
    industry_id = await add(alice, ADD_INDUSTRY, "addIndustryTemplate",
                            {**INDUSTRY, "anonymize": True})
    framework_id = await add(alice, ADD_COMPLIANCE, "addComplianceTemplate",
                             {"key": "k-two", "name": "Fine", "controls": CONTROLS,
                              "anonymize": True})
    before = [await stored(IndustryTemplate, industry_id),
              await stored(ComplianceTemplate, framework_id)]
    refused = await alice(UPDATE_INDUSTRY, {"id": industry_id, "i": {
        "description": ADDRESSES_2000 * 2 + ADDRESSES}})
    assert _errors(refused) == [("description", "TOO_LARGE")]
    refused = await alice(UPDATE_COMPLIANCE, {"id": framework_id, "i": {"controls": [
        {**CONTROLS[0], "title": ADDRESSES}]}})
    assert _errors(refused) == [("controls.0.title", "TOO_LARGE")]
    assert [await stored(IndustryTemplate, industry_id),
            await stored(ComplianceTemplate, framework_id)] == before
