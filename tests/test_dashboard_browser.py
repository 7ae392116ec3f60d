"""The dashboard at /ui/ used as a person would, in a real headless Chromium against a real
uvicorn: sign in, see a project's metrics after genuine JUnit/coverage/SARIF uploads, watch
evidence posted over REST appear without reload, be signed out when the token is revoked,
and see attacker-written text stay text. Every page is checked for console errors and
requests off the server, and screenshotted (tests/artifacts/)."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from browser_kit import (
    XSS_FLAG,
    chromium,
    graphql,
    new_token,
    open_page,
    post_evidence,
    sign_in,
)
from community.templates_kit import template_artifacts

__all__ = ["chromium", "template_artifacts"]  # session fixtures: Chromium, genuine artifacts

pytestmark = pytest.mark.server

PROJECT = "github.com/acme/dashboard"
PAYLOAD = f"<img src=x onerror=\"window.{XSS_FLAG}=1;alert(1)\">"
#: The live feed's functional requirement: a new item shows within 2 s, without reload.
LIVE_WITHIN_MS = 2000


def upload(server, mutation: str, content: str, **extra) -> None:
    data = graphql(server, f"mutation($input: ArtifactInput!) {{ {mutation}(input: $input) "
                   "{ errors { message } } }",
                   {"input": {"content": content, "project": PROJECT, **extra}})
    assert data[mutation]["errors"] == [], data


def feed_red_project(server, artifacts) -> None:
    """The red project's real pytest JUnit report (one of two tests fails), coverage.py XML
    and Bandit SARIF (a high-severity shell=True call)."""
    upload(server, "submitTestReport", artifacts.read("red-junit.xml"))
    upload(server, "submitCoverageReport", artifacts.read("red-coverage.xml"))
    upload(server, "submitSecurityScan", artifacts.read("red-bandit.sarif"),
           sourceRoot=str(artifacts.root / "red"))


def test_dashboard_files_carry_a_strict_policy(live_server):
    page = httpx.get(f"{live_server.http_url}/ui/")
    assert page.status_code == 200 and 'type="module"' in page.text
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert f"ws://127.0.0.1:{live_server.port}" in re.search(r"connect-src ([^;]*)",
                                                             policy).group(1)
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in page.text  # no inline script anywhere
    module = httpx.get(f"{live_server.http_url}/ui/js/main.js")
    assert module.status_code == 200 and "javascript" in module.headers["content-type"]
    assert httpx.get(f"{live_server.http_url}/ui").status_code in (200, 307)
    assert httpx.get(f"{live_server.http_url}/ui/../arcos/settings.py").status_code == 404
    hostile = httpx.get(f"{live_server.http_url}/ui/",
                        headers={"host": "evil; script-src *"})
    assert "evil" not in hostile.headers["content-security-policy"]


def test_sign_in_shows_the_pages_the_scopes_allow(live_server, chromium):
    no_pages = new_token(live_server, "deliverer", "webhooks:deliver")
    watched = open_page(chromium, live_server.http_url)
    page = watched.page
    sign_in(watched, no_pages)
    page.get_by_text("allow none of the dashboard's pages").wait_for()
    assert page.locator("#nav a").count() == 0
    page.click("#sign-out")
    page.locator("#token").wait_for()
    assert page.evaluate("() => sessionStorage.length") == 0
    watched.screenshot("dashboard-signin")

    sign_in(watched, live_server.token)
    assert page.locator("#nav a").all_inner_texts() == ["Projects", "Evidence", "Plugins", "Community",
                                                        "Operators"]
    assert live_server.token not in page.url
    watched.assert_clean()


def test_a_wrong_token_is_refused_on_the_sign_in_page(live_server, chromium):
    watched = open_page(chromium, live_server.http_url)
    page = watched.page
    page.goto(f"{live_server.http_url}/ui/")
    page.fill("#token", "arcos_not-a-real-token-0123456789abcdefghijklmn")
    page.click("button[type=submit]")
    page.locator("#notice").get_by_text("no longer accepted").wait_for()
    page.locator("#token").wait_for()
    # The refused request is the one console error a browser logs for a 401.
    assert all("401" in error for error in watched.errors), watched.errors


def test_project_pages_show_genuine_metrics_and_live_evidence(
        live_server, template_artifacts, chromium):
    feed_red_project(live_server, template_artifacts)
    watched = open_page(chromium, live_server.http_url)
    page = watched.page
    sign_in(watched, live_server.token)

    row = page.locator(f'tr[data-project="{PROJECT}"]')
    assert row.locator('[data-metric="tests.pass_rate"]').inner_text() == "50.0 %"
    coverage = row.locator('[data-metric="coverage.line_rate"]').inner_text()
    assert coverage.endswith(" %") and coverage != "0.0 %"
    assert row.locator('[data-metric="findings"]').inner_text().split(" / ")[1] == "1"  # high
    row.locator(".spark").wait_for(state="attached")
    watched.screenshot("dashboard-projects")

    page.fill("#project-filter", "no-such-project")
    page.get_by_text("No projects.").wait_for()
    page.fill("#project-filter", "dashboard")
    row.get_by_role("link").click()

    page.locator('#latest-metrics dd[data-metric="tests.pass_rate"]').wait_for()
    assert page.locator('#latest-metrics dd[data-metric="tests.pass_rate"]').inner_text() \
        == "50.0 %"
    page.locator('[data-plot="tests.pass_rate"] polyline, [data-plot="tests.pass_rate"] circle'
                 ).first.wait_for(state="attached")
    finding = page.locator("tr[data-finding]").first
    finding.wait_for()
    assert "HIGH" in finding.inner_text() and "bandit" in finding.inner_text().lower()
    page.select_option("#severity", "LOW")
    page.get_by_text("No findings match.").wait_for()
    page.select_option("#severity", "")
    page.locator("#compliance table").wait_for()
    page.locator("#live-state").get_by_text("live", exact=True).wait_for()

    posted = post_evidence(live_server, type="deployment_check", source="rest-client",
                           project=PROJECT, data={"release": "1.2.3"})
    page.locator(f'#feed li[data-evidence="{posted["id"]}"]').wait_for(timeout=LIVE_WITHIN_MS)
    assert page.url.endswith("#/project/github.com%2Facme%2Fdashboard")  # no reload, same page
    watched.screenshot("dashboard-project")

    page.locator(f'#feed li[data-evidence="{posted["id"]}"] a').click()
    page.locator("#evidence-data").wait_for()
    assert json.loads(page.locator("#evidence-data").inner_text()) == {"release": "1.2.3"}
    assert posted["sha256"] in page.locator("#provenance").inner_text()
    watched.screenshot("dashboard-evidence-item")

    page.click("#nav >> text=Evidence")
    page.locator("#evidence-count").get_by_text("items").wait_for()
    assert page.locator("tr[data-evidence]").count() == 4  # 3 uploads and the REST item
    page.fill("#filter-type", "deployment_check")
    page.click("form.controls button[type=submit]")
    page.locator("#evidence-count").get_by_text("1 items").wait_for()
    watched.screenshot("dashboard-evidence")
    watched.assert_clean()


def test_evidence_pages_page_through_the_connection(live_server, chromium):
    for number in range(30):
        post_evidence(live_server, type="bulk", source="pager", project=PROJECT,
                      data={"n": number})
    watched = open_page(chromium, live_server.http_url)
    page = watched.page
    sign_in(watched, live_server.token)
    page.goto(f"{live_server.http_url}/ui/#/evidence")
    page.locator("#evidence-count").get_by_text("30 items · page 1").wait_for()
    assert page.locator("tr[data-evidence]").count() == 25
    first_page = set(page.locator("tr[data-evidence]").evaluate_all(
        "rows => rows.map(r => r.dataset.evidence)"))
    page.click("#next-page")
    page.locator("#evidence-count").get_by_text("page 2").wait_for()
    second_page = set(page.locator("tr[data-evidence]").evaluate_all(
        "rows => rows.map(r => r.dataset.evidence)"))
    assert len(second_page) == 5 and not first_page & second_page
    assert page.locator("#next-page").is_disabled()
    watched.assert_clean()


def test_revoking_the_token_signs_the_open_page_out(live_server, chromium):
    post_evidence(live_server, type="custom", source="ci", project=PROJECT, data={})
    reader = new_token(live_server, "dashboard-reader", "evidence:read")
    watched = open_page(chromium, live_server.http_url)
    page = watched.page
    sign_in(watched, reader)
    page.goto(f"{live_server.http_url}/ui/#/project/{PROJECT.replace('/', '%2F')}")
    page.locator("#live-state").get_by_text("live", exact=True).wait_for()
    graphql(live_server, "mutation { revokeApiToken(input: {token: \"dashboard-reader\"}) "
            "{ errors { message } } }")
    page.locator("#notice").get_by_text("no longer accepted").wait_for()
    page.locator("#token").wait_for()
    assert page.evaluate("() => sessionStorage.length") == 0
    watched.screenshot("dashboard-revoked")
    assert all("401" in error for error in watched.errors), watched.errors
    assert not watched.dialogs and not watched.blocked


def test_attacker_written_text_stays_text(live_server, chromium):
    sarif = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "bandit"}}, "results": [{
        "ruleId": "B602", "level": "error", "message": {"text": PAYLOAD},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": "pkg/a.py"},
                                            "region": {"startLine": 3}}}]}]}]}
    upload(live_server, "submitSecurityScan", json.dumps(sarif))
    item = post_evidence(live_server, type="custom", source="ci", project=PROJECT,
                         data={PAYLOAD: PAYLOAD, "nested": [PAYLOAD]},
                         metadata={"note": PAYLOAD})
    watched = open_page(chromium, live_server.http_url)
    page = watched.page
    sign_in(watched, live_server.token)
    page.goto(f"{live_server.http_url}/ui/#/project/{PROJECT.replace('/', '%2F')}")
    message = page.locator("tr[data-finding] td.message").first
    message.wait_for()
    assert message.inner_text() == PAYLOAD
    page.locator("#live-state").get_by_text("live", exact=True).wait_for()
    live = post_evidence(live_server, type="custom", source="ci", project=PROJECT,
                         data={"html": PAYLOAD})
    page.locator(f'#feed li[data-evidence="{live["id"]}"]').wait_for()
    page.goto(f"{live_server.http_url}/ui/#/evidence/{item['id']}")
    page.locator("#evidence-data").wait_for()
    assert json.loads(page.locator("#evidence-data").inner_text()) == {
        PAYLOAD: PAYLOAD, "nested": [PAYLOAD]}
    assert page.locator("main img").count() == 0
    watched.screenshot("dashboard-xss")
    assert not watched.xss_fired()
    watched.assert_clean()


REGISTER_PLUGIN = """mutation($input: RegisterPluginInput!) {
  registerPlugin(input: $input) { plugin { pluginId } errors { message } problems { message } }
}"""


def test_the_plugin_catalogue_shows_hostile_names_as_text(live_server, chromium):
    manifest = {"id": "acme.hostile", "name": PAYLOAD, "version": "1.0.0", "type": "metric",
                "description": f"describes {PAYLOAD}", "author": PAYLOAD,
                "permissions": [], "entry_point": "measure", "tags": ["xss"]}
    registered = graphql(live_server, REGISTER_PLUGIN, {"input": {
        "manifest": manifest,
        "code": "def measure():\n    return [{'name': 'plugin.score', 'value': 1}]\n"}})
    assert registered["registerPlugin"]["errors"] == [], registered
    watched = open_page(chromium, live_server.http_url)
    page = watched.page
    sign_in(watched, live_server.token)
    page.click("#nav >> text=Plugins")
    card = page.locator('[data-plugin="acme.hostile"]')
    card.wait_for()
    assert card.locator("h2").inner_text() == PAYLOAD
    card.locator("summary").first.click()
    assert "1.0.0" in card.locator("table").inner_text()
    page.fill("#plugin-search", "nothing-matches-this")
    page.click("form.controls button[type=submit]")
    page.get_by_text("No plugins match.").wait_for()
    page.fill("#plugin-search", "")
    page.click("form.controls button[type=submit]")
    card.wait_for()
    watched.screenshot("dashboard-plugins")
    assert page.locator("main img").count() == 0
    assert not watched.xss_fired()
    watched.assert_clean()


#: The project page's feed keeps this many rows (FEED_SIZE in pages/project.js).
FEED_ROWS = 50


def test_a_page_left_open_keeps_its_feed_bounded(live_server, chromium):
    """Items arriving live push the oldest rows out: a page left open for hours holds the
    newest FEED_ROWS, not everything since it was opened (tests/benchmarks/bench_dashboard.py
    measures its heap). Also the marks that benchmark times the first paint by."""
    post_evidence(live_server, type="custom", source="ci", project=PROJECT, data={})
    watched = open_page(chromium, live_server.http_url)
    page = watched.page
    sign_in(watched, live_server.token)
    page.goto(f"{live_server.http_url}/ui/#/project/{PROJECT.replace('/', '%2F')}")
    page.wait_for_function("() => performance.getEntriesByName('arcos:project-painted').length"
                           " && performance.getEntriesByName('arcos:project-drawn').length")
    page.locator("#live-state").get_by_text("live", exact=True).wait_for()
    posted = [post_evidence(live_server, type="live", source="ci", project=PROJECT,
                            data={"n": n})["id"] for n in range(FEED_ROWS + 5)]
    page.locator(f'#feed li[data-evidence="{posted[-1]}"]').wait_for()
    shown = page.locator("#feed li").evaluate_all("rows => rows.map(r => r.dataset.evidence)")
    assert shown == posted[::-1][:FEED_ROWS]  # newest first, the oldest pushed out


INGEST = """mutation($input: IngestWebhookDeliveryInput!) {
  ingestWebhookDelivery(input: $input) { delivery { deliveryId outcome } errors { message } }
}"""


def test_operators_see_deliveries_and_manage_tokens(live_server, chromium):
    delivered = graphql(live_server, INGEST, {"input": {
        "provider": "CICD", "event": PAYLOAD, "dedupeKey": "xss-1", "body": "{}"}})
    delivery = delivered["ingestWebhookDelivery"]["delivery"]
    built = graphql(live_server, INGEST, {"input": {
        "provider": "CICD", "event": "build", "dedupeKey": "job-1",
        "body": json.dumps({"name": "app", "build": {"number": 1, "status": "SUCCESS"}})}})
    assert built["ingestWebhookDelivery"]["delivery"]["outcome"] == "PROCESSED", built
    watched = open_page(chromium, live_server.http_url)
    page = watched.page
    sign_in(watched, live_server.token)
    page.click("#nav >> text=Operators")
    row = page.locator(f'tr[data-delivery="{delivery["deliveryId"]}"]')
    row.wait_for()
    assert row.locator("td.event").inner_text() == PAYLOAD
    assert delivery["outcome"] in row.inner_text()
    page.select_option("#delivery-outcome", "PROCESSED")
    row.wait_for(state="detached")
    assert "PROCESSED" in page.locator("tr[data-delivery]").first.inner_text()

    page.fill("#token-name", "nightly-ci")
    page.fill("#token-scopes", "evidence:read, evidence:write")
    page.click("#create-token button[type=submit]")
    secret = page.locator("#token-secret").inner_text()
    page.locator('tr[data-token="nightly-ci"]').wait_for()
    viewer = graphql(live_server, "{ viewer { name scopes } }", token=secret)["viewer"]
    assert sorted(viewer["scopes"]) == ["evidence:read", "evidence:write"]
    watched.screenshot("dashboard-operators")

    page.click('[data-revoke="nightly-ci"]')
    page.get_by_text("Cancel").click()  # the first click only asks
    assert graphql(live_server, "{ viewer { authenticated } }", token=secret)["viewer"]
    page.click('[data-revoke="nightly-ci"]')
    page.click('[data-confirm="nightly-ci"]')
    page.locator('tr[data-token="nightly-ci"]').get_by_text("REVOKED").wait_for()
    refused = httpx.post(f"{live_server.http_url}/graphql", json={"query": "{ viewer { name } }"},
                         headers={"authorization": f"Bearer {secret}"})
    assert refused.status_code == 401 or "errors" in refused.json()
    assert page.locator("main img").count() == 0
    assert not watched.xss_fired()
    watched.assert_clean()


ECHO_CODE = """
def collect(data):
    return {"evidence": [{"type": "echo", "data": {"seen": data.get("n", "")}}]}
"""


def echo_manifest(version: str, *permissions: str) -> dict:
    return {"id": "acme.echo", "name": "Echo", "version": version, "type": "collector",
            "description": "echoes its input as evidence", "author": "acme",
            "permissions": list(permissions), "entry_point": "collect", "tags": []}


def test_plugins_are_registered_approved_revoked_and_executed(live_server, chromium):
    watched = open_page(chromium, live_server.http_url)
    page = watched.page
    sign_in(watched, live_server.token)
    page.click("#nav >> text=Plugins")
    page.locator("#plugin-count").get_by_text("0 plugin(s)").wait_for()
    page.click("text=Register a plugin version")
    page.fill("#register-manifest", "{not json")
    page.fill("#register-code", ECHO_CODE)
    page.click("#register-plugin button[type=submit]")
    page.locator("#register-report").get_by_text("Manifest: Not valid JSON").wait_for()
    page.fill("#register-manifest", json.dumps(echo_manifest("1.0.0", "evidence.write")))
    page.fill("#register-code", "def collect(data):\n    return (\n")
    page.click("#register-plugin button[type=submit]")
    problem = page.locator("#register-problems li").first
    problem.wait_for()
    assert problem.inner_text().startswith("line ")
    page.fill("#register-code", ECHO_CODE)
    page.click("#register-plugin button[type=submit]")
    page.locator("#register-report").get_by_text("Registered acme.echo 1.0.0").wait_for()
    card = page.locator('[data-plugin="acme.echo"]')
    card.wait_for()

    card.get_by_text("Execute", exact=True).first.click()
    page.fill("#input-acme-echo", '{"n": ')
    card.locator("form.execute button[type=submit]").click()
    card.get_by_text("Not valid JSON").wait_for()
    assert page.locator("tr[data-execution]").count() == 0  # nothing was sent
    page.fill("#input-acme-echo", json.dumps({"n": PAYLOAD}))
    page.fill("#project-acme-echo", PROJECT)
    card.locator("form.execute button[type=submit]").click()
    card.locator(".execute-outcome").get_by_text("SUCCEEDED").wait_for()
    result = json.loads(card.locator(".execute-result").inner_text())
    assert result["evidence"][0]["data"] == {"seen": PAYLOAD}
    page.locator("tr[data-execution]").get_by_text("SUCCEEDED").wait_for()

    publisher = new_token(live_server, "publisher", "plugins:write")
    wider = graphql(live_server, REGISTER_PLUGIN, {"input": {
        "manifest": {**echo_manifest("2.0.0", "evidence.write", "evidence.read"),
                     "id": "acme.reader", "name": "Reader"},
        "code": ECHO_CODE}}, token=publisher)
    assert wider["registerPlugin"]["errors"] == [], wider
    page.click("form.controls button[type=submit]")
    reader = page.locator('[data-plugin="acme.reader"]')
    reader.locator("summary").first.click()
    pending = reader.locator('tr[data-version="2.0.0"]')
    pending.get_by_text("PENDING_APPROVAL").wait_for()
    pending.locator("[data-approve]").click()
    pending.get_by_text("ACTIVE").wait_for()
    card.locator("summary").first.click()
    first = card.locator('tr[data-version="1.0.0"]')
    first.locator("[data-revoke]").click()
    first.get_by_text("Cancel").click()
    assert "ACTIVE" in first.inner_text()
    first.locator("[data-revoke]").click()
    first.locator("[data-confirm]").click()
    page.locator("#plugin-notice").get_by_text("Revoked acme.echo 1.0.0").wait_for()
    card.wait_for(state="detached")  # nothing of it stands: it leaves the catalogue
    watched.screenshot("dashboard-plugin-actions")
    states = {p["pluginId"]: p["versions"][0]["state"] for p in graphql(
        live_server, "{ plugins { nodes { pluginId versions { state } } } }")["plugins"]["nodes"]}
    assert states == {"acme.reader": "ACTIVE"}  # acme.echo's only version is revoked
    assert page.locator("main img").count() == 0
    assert not watched.xss_fired()
    watched.assert_clean()


def test_the_community_page_shows_shared_work_and_counts_votes(live_server, chromium):
    member = new_token(live_server, "member", "community:read", "community:write")
    shared = graphql(live_server, """mutation($p: SharePatternInput!, $b: AddPracticeInput!,
                                              $t: ShareThreatInput!) {
      sharePattern(input: $p) { errors { message } }
      addPractice(input: $b) { practice { id } errors { message } }
      shareThreat(input: $t) { threat { id } errors { message } }
    }""", {"p": {"name": f"pattern {PAYLOAD}", "category": "TESTING",
                 "description": PAYLOAD, "pattern": {"rule": PAYLOAD}, "tags": ["xss"]},
           "b": {"title": f"practice {PAYLOAD}", "category": "SECURITY",
                 "description": PAYLOAD, "steps": [PAYLOAD]},
           "t": {"title": f"threat {PAYLOAD}", "kind": "MALWARE", "severity": "HIGH",
                 "description": PAYLOAD, "indicators": [f"[file:name = '{PAYLOAD}']"], "tlp": "GREEN"}},
                     token=member)
    assert all(value["errors"] == [] for value in shared.values()), shared
    practice = shared["addPractice"]["practice"]["id"]
    threat = shared["shareThreat"]["threat"]["id"]
    watched = open_page(chromium, live_server.http_url)
    page = watched.page
    sign_in(watched, live_server.token)
    page.click("#nav >> text=Community")
    card = page.locator(f'[data-practice="{practice}"]')
    card.wait_for()
    assert card.locator(".title").inner_text() == f"practice {PAYLOAD}"
    assert page.locator("[data-pattern] h3").first.inner_text() == f"pattern {PAYLOAD}"
    row = page.locator(f'tr[data-threat="{threat}"]')
    assert row.locator(".title").inner_text() == f"threat {PAYLOAD}"
    tlp = row.locator(".tlp")
    assert tlp.inner_text() == "TLP:GREEN" and "tlp-green" in tlp.get_attribute("class")
    assert "HIGH" in row.inner_text()
    assert page.locator("#templates tr[data-template]").count() >= 16  # 8 + 8 built-ins

    card.locator("[data-vote]").click()
    card.locator(".votes").get_by_text("1 upvote(s)").wait_for()
    assert graphql(live_server, "query($s: String) { practices(search: $s) { nodes { upvotes } "
                   "} }", {"s": "practice"})["practices"]["nodes"][0]["upvotes"] == 1
    card.get_by_text("Withdraw upvote").click()
    card.locator(".votes").get_by_text("0 upvote(s)").wait_for()
    page.fill("#community-search", "nothing-like-this")
    page.click("form.controls button[type=submit]")
    page.get_by_text("No practices match.").wait_for()
    page.fill("#community-search", "")
    page.click("form.controls button[type=submit]")
    card.wait_for()
    watched.screenshot("dashboard-community")
    assert page.locator("main img").count() == 0
    assert not watched.xss_fired()
    watched.assert_clean()
