"""The assurance case view of the dashboard (#/cases/<id>) in a real headless Chromium
against a real uvicorn: a case made through the API shows as a GSN tree whose Solution is
MISSING until a genuine JUnit report arrives, then turns SUPPORTED (and FAILING on a red
report) in place, without reload, over the `assuranceCaseUpdated` subscription; the goal's
attacker-written text stays text."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from browser_kit import XSS_FLAG, chromium, graphql, open_page, post_evidence, sign_in
from community.templates_kit import template_artifacts

__all__ = ["chromium", "template_artifacts"]  # session fixtures: Chromium, genuine artifacts

pytestmark = pytest.mark.server

PROJECT = "github.com/acme/cases"
PAYLOAD = f"<img src=x onerror=\"window.{XSS_FLAG}=1;alert(1)\">"
#: Functional, not a benchmark: the status changes while the page is open, without reload.
LIVE_WITHIN_MS = 5000

CREATE = """mutation($input: CreateAssuranceCaseInput!) {
  createAssuranceCase(input: $input) { case { caseId } errors { message } } }"""
PLATFORM = {"title": "Platform", "elements": [
    {"id": "G7", "type": "goal", "text": "The platform is hardened.", "public": True,
     "undeveloped": True}]}


def argument(platform_case: str) -> dict[str, Any]:
    """A release argument: its top goal's text is an XSS payload, its one Solution is decided
    by the project's test pass rate, and it leans on the platform case's public goal."""
    return {"title": f"Release {PAYLOAD}", "elements": [
        {"id": "G1", "type": "goal", "text": PAYLOAD, "supportedBy": ["S1"],
         "inContextOf": ["C1", "A1"]},
        {"id": "C1", "type": "context", "text": "Release 1.0."},
        {"id": "A1", "type": "assumption", "text": "CI runs every test."},
        {"id": "S1", "type": "strategy", "text": "Argue over tests and the platform.",
         "supportedBy": ["G2", "G3", "G7"], "inContextOf": ["J1"]},
        {"id": "J1", "type": "justification", "text": "Tests and platform cover the risks."},
        {"id": "G2", "type": "goal", "text": "Tests pass.", "supportedBy": ["Sn1"]},
        {"id": "G3", "type": "goal", "text": "No critical findings.", "undeveloped": True},
        {"id": "G7", "type": "away_goal", "text": "The platform is hardened.",
         "module": platform_case},
        {"id": "Sn1", "type": "solution", "text": "JUnit results.",
         "arcos": {"metric": "tests.pass_rate", "predicate": ">= 0.95", "max_age_days": 30}},
    ]}


def create_case(server: Any, document: dict[str, Any]) -> str:
    made = graphql(server, CREATE, {"input": {"project": PROJECT, "json": document}})
    assert made["createAssuranceCase"]["errors"] == [], made
    return made["createAssuranceCase"]["case"]["caseId"]


def submit_report(server: Any, content: str) -> str:
    """A test report as CI submits it; the stored evidence item's uuid (the id a case's
    statuses name; GraphQL's Node id is base64 of `Evidence:<uuid>`)."""
    data = graphql(server, "mutation($input: ArtifactInput!) { submitTestReport(input: $input)"
                   " { evidence { id } errors { message } } }",
                   {"input": {"content": content, "project": PROJECT}})["submitTestReport"]
    assert data["errors"] == [], data
    kind, _, uid = base64.b64decode(data["evidence"]["id"]).decode().partition(":")
    assert kind == "Evidence"
    return uid


def test_a_case_turns_supported_live_when_its_evidence_arrives(
        live_server, template_artifacts, chromium):
    # The project exists once it has evidence; nothing of this item decides the Solution.
    post_evidence(live_server, type="deployment_check", source="ci", project=PROJECT,
                  data={"release": "1.0"})
    platform = create_case(live_server, PLATFORM)
    case_id = create_case(live_server, argument(platform))
    watched = open_page(chromium, live_server.http_url)
    page = watched.page
    sign_in(watched, live_server.token)
    page.goto(f"{live_server.http_url}/ui/#/project/{PROJECT.replace('/', '%2F')}")
    page.locator(f'#cases a[data-case="{case_id}"]').click()

    solution = page.locator('#case-tree .gsn-node[data-element="Sn1"]')
    solution.wait_for()
    assert page.url.endswith(f"#/cases/{case_id}")
    assert solution.get_attribute("data-status") == "MISSING"
    assert solution.locator(".badge").inner_text() == "MISSING"  # the word, not only colour
    assert solution.locator(".reason").inner_text()
    assert page.locator("#case-status .badge").inner_text() != "SUPPORTED"
    top = page.locator('#case-tree .gsn-node[data-element="G1"]')
    assert top.locator(".gsn-text").inner_text() == PAYLOAD
    # Context and assumption beside the top goal, the justification beside the strategy.
    contexts = page.locator('ul[aria-label="Context of G1"] li')
    assert contexts.evaluate_all("items => items.map(i => i.dataset.element)") == ["C1", "A1"]
    assert "assumption" in contexts.nth(1).inner_text().lower()
    assert "J1" in page.locator('ul[aria-label="Context of S1"]').inner_text()
    # The tree nests: the solution is inside G2, inside S1, inside G1.
    assert page.locator('li:has(> [data-element="G1"]) li:has(> [data-element="S1"]) '
                        'li:has(> [data-element="G2"]) [data-element="Sn1"]').count() == 1
    assert "undeveloped" in page.locator('[data-element="G3"] .marker').all_inner_texts()
    away = page.locator('[data-element="G7"] .marker.away')
    assert "away goal" in away.inner_text() and platform in away.inner_text()
    page.locator("#live-state").get_by_text("live", exact=True).wait_for()
    watched.screenshot("dashboard-case-missing")

    evidence_id = submit_report(live_server, template_artifacts.read("green-junit.xml"))
    page.locator('#case-tree .gsn-node[data-element="Sn1"][data-status="SUPPORTED"]').wait_for(
        timeout=LIVE_WITHIN_MS)
    assert page.url.endswith(f"#/cases/{case_id}")  # no reload, same page
    assert solution.locator(".badge").inner_text() == "SUPPORTED"
    assert "tone-ok" in (solution.get_attribute("class") or "")
    assert page.locator('[data-element="G2"]').get_attribute("data-status") == "SUPPORTED"
    decided = solution.locator(f'.decided-by a[data-evidence="{evidence_id}"]')
    assert decided.get_attribute("href") == f"#/evidence/{evidence_id}"
    watched.screenshot("dashboard-case")

    submit_report(live_server, template_artifacts.read("red-junit.xml"))
    page.locator('#case-tree .gsn-node[data-element="Sn1"][data-status="FAILING"]').wait_for(
        timeout=LIVE_WITHIN_MS)
    assert solution.locator(".badge").inner_text() == "FAILING"
    assert page.locator("#case-status .badge").inner_text() == "FAILING"

    assert page.locator("main img").count() == 0
    assert not watched.xss_fired()
    decided = solution.locator(".decided-by a").first
    decided.click()
    page.locator("#evidence-data").wait_for()
    watched.assert_clean()


def test_an_unknown_case_says_so(live_server, chromium):
    watched = open_page(chromium, live_server.http_url)
    page = watched.page
    sign_in(watched, live_server.token)
    page.goto(f"{live_server.http_url}/ui/#/cases/no-such-case")
    page.get_by_text("No such assurance case.").wait_for()
    watched.assert_clean()
