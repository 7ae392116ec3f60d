"""An anonymised template's name and version must still fit their columns once scrubbed:
a field problem, never a 500."""

from __future__ import annotations

from conftest import RunningApp
from test_templates_api import ADD_COMPLIANCE, ADD_INDUSTRY, CONTROLS, INDUSTRY, client_for

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
