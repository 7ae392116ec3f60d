"""GraphiQL at /graphql works with no network but the server: its files come from an
installed package, it starts without inline script under a strict policy, and it runs a
query over HTTP and a subscription over graphql-transport-ws in a real Chromium."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from browser_kit import chromium, open_page, post_evidence

from arcos.settings import Settings
from arcos.web.browser.graphiql import SCRIPTS, STYLES, page_html

__all__ = ["chromium"]  # the fixture the browser test takes

pytestmark = pytest.mark.server


def set_editor(page, selector: str, text: str) -> None:
    """Type into one of GraphiQL's CodeMirror editors (through CodeMirror's own API: typed
    keys would be auto-closed)."""
    editor = page.locator(selector).first
    editor.wait_for()
    editor.evaluate("(element, text) => element.CodeMirror.setValue(text)", text)


def test_the_page_loads_its_files_from_this_server_or_the_mirror():
    local = page_html(Settings())
    assert "https://" not in local and "<script>" not in local
    for name in (*SCRIPTS, *STYLES):
        assert f"/graphiql/vendor/{name}" in local
    mirrored = page_html(Settings(graphiql_assets_url="https://mirror.example/gql"))
    assert 'src="https://mirror.example/gql/graphiql.min.js"' in mirrored
    assert "<script>" not in mirrored


def test_the_page_and_its_files_carry_the_policy(live_server):
    page = httpx.get(f"{live_server.http_url}/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    script_src = re.search(r"script-src ([^;]*)", policy).group(1)
    assert "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
    assert page.headers["x-frame-options"] == "DENY"
    assert "<script>" not in page.text
    for name in (*SCRIPTS, *STYLES):
        asset = httpx.get(f"{live_server.http_url}/graphiql/vendor/{name}")
        assert asset.status_code == 200 and len(asset.content) > 500, name
        assert asset.headers["x-content-type-options"] == "nosniff"
    assert httpx.get(f"{live_server.http_url}/graphiql/vendor/../../__init__.py"
                     ).status_code == 404


def test_a_mirror_is_allowed_by_the_policy_and_used(database_url, tmp_path):
    from conftest import start_server, stop_server
    server = start_server(database_url, tmp_path / "server.log",
                          {"ARCOS_GRAPHIQL_ASSETS_URL": "https://mirror.example/graphiql/"})
    try:
        page = httpx.get(f"{server.http_url}/graphql", headers={"accept": "text/html"})
        assert "https://mirror.example/graphiql/react.production.min.js" in page.text
        assert "script-src 'self' https://mirror.example" in page.headers[
            "content-security-policy"]
    finally:
        stop_server(server)


def test_no_graphiql_when_the_schema_is_not_exposed(database_url, tmp_path):
    from conftest import start_server, stop_server
    server = start_server(database_url, tmp_path / "server.log",
                          {"ARCOS_EXPOSE_SCHEMA": "false"})
    try:
        page = httpx.get(f"{server.http_url}/graphql", headers={"accept": "text/html"})
        assert "GraphiQL" not in page.text
        assert httpx.get(f"{server.http_url}/graphiql/start.js").status_code == 404
    finally:
        stop_server(server)


def test_graphiql_runs_a_query_and_a_subscription_offline(live_server, chromium):
    watched = open_page(chromium, live_server.http_url)
    page = watched.page
    page.goto(f"{live_server.http_url}/graphql")
    set_editor(page, ".graphiql-query-editor .CodeMirror",
               "{ viewer { name scopes } }")
    page.get_by_text("Headers", exact=True).click()
    headers = json.dumps({"Authorization": f"Bearer {live_server.token}"})
    set_editor(page, ".graphiql-editor-tool .CodeMirror:visible", headers)
    page.locator(".graphiql-execute-button").click()
    result = page.locator(".result-window")
    result.get_by_text('"admin"').first.wait_for()
    watched.screenshot("graphiql-query")

    set_editor(page, ".graphiql-query-editor .CodeMirror",
               'subscription { evidenceAdded(project: "acme/ide") { type source } }')
    page.locator(".graphiql-execute-button").click()
    # The subscription is live once the server counts it.
    page.wait_for_function("""async (url) => {
        const health = await (await fetch(url)).json(); return health.subscriptions > 0;
    }""", arg=f"{live_server.http_url}/healthz")
    post_evidence(live_server, type="ide_check", source="graphiql-test",
                  project="acme/ide", data={"n": 1})
    result.get_by_text('"graphiql-test"').first.wait_for()
    watched.screenshot("graphiql-subscription")
    watched.assert_clean()
