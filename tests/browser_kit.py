"""Real headless Chromium for the browser tests: Debian's `chromium` driven by Playwright's
Python API (its own browser downloads are never used), with every request that is not
to the test server refused, so a page that needs the internet shows it.

Tests skip, naming what is missing, when Playwright or Chromium is absent (`.ci/run`
installs Chromium with apt-get where it can). Screenshots go to tests/artifacts/
(gitignored; ARCOS_TEST_ARTIFACTS moves it).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM_PATHS = ("chromium", "chromium-browser", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("ARCOS_TEST_ARTIFACTS")
                 or Path(__file__).resolve().parent / "artifacts")
#: Set by every XSS payload the tests store; the page must never set it.
XSS_FLAG = "__arcos_xss"


def chromium_executable() -> str | None:
    for name in CHROMIUM_PATHS:
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture
def chromium() -> Iterator[Any]:
    """A headless Chromium for one test. Take it after `live_server` in a test's arguments:
    Playwright's sync API keeps an event loop running in this thread while it is open, and
    the PostgreSQL fixtures call asyncio.run as they set up."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the browser tests need the `playwright` Python package "
                    "(pip install -e '.[test]')")
    executable = chromium_executable()
    if executable is None:
        pytest.skip("the browser tests need Chromium on PATH (Debian: apt-get install "
                    "chromium; .ci/run installs it when it runs as root)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            # No name resolves except the loopback address the server listens on.
            args=["--no-sandbox", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"],
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Watched:
    """A page with what went wrong in it: console errors, uncaught exceptions, dialogs
    (an XSS payload's alert would be one) and requests to anywhere but the server."""

    page: Any
    base_url: str
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        print(f"screenshot: {path}")
        return path

    def xss_fired(self) -> bool:
        return bool(self.page.evaluate(f"() => Boolean(window.{XSS_FLAG})"))

    def assert_clean(self) -> None:
        assert not self.errors, f"console errors: {self.errors}"
        assert not self.dialogs, f"dialogs opened: {self.dialogs}"
        assert not self.blocked, f"requests off the server: {self.blocked}"


def open_page(chromium: Any, base_url: str) -> Watched:
    """A fresh context (its own sessionStorage) and page, offline but for `base_url`."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    watched = Watched(page, base_url)

    def route(route: Any) -> None:
        if route.request.url.startswith(base_url):
            route.continue_()
        else:
            watched.blocked.append(route.request.url)
            route.abort()

    def dialog(dialog: Any) -> None:
        watched.dialogs.append(dialog.message)
        dialog.dismiss()

    page.route("**/*", route)
    page.on("console", lambda message: message.type == "error"
            and watched.errors.append(message.text))
    page.on("pageerror", lambda error: watched.errors.append(str(error)))
    page.on("dialog", dialog)
    page.set_default_timeout(15_000)
    return watched


def graphql(server: Any, query: str, variables: dict[str, Any] | None = None,
            token: str | None = None) -> dict[str, Any]:
    """One GraphQL request as the admin (or `token`), asserting it had no errors."""
    response = httpx.post(
        f"{server.http_url}/graphql", json={"query": query, "variables": variables or {}},
        headers={"authorization": f"Bearer {token or server.token}"}, timeout=60)
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def new_token(server: Any, name: str, *scopes: str) -> str:
    """A token made through the API, as an admin would in the dashboard."""
    created = graphql(server, "mutation($input: CreateApiTokenInput!) { createApiToken("
                      "input: $input) { token errors { message } } }",
                      {"input": {"name": name, "scopes": list(scopes)}})["createApiToken"]
    assert created["errors"] == [], created
    return created["token"]


def post_evidence(server: Any, **item: Any) -> dict[str, Any]:
    """One evidence item over REST (the original API's route), as a CI job would."""
    response = httpx.post(f"{server.http_url}/api/evidence/custom", json=item,
                          headers=server.auth_headers, timeout=60)
    assert response.status_code == 201, response.text
    return response.json()["evidence"]


def sign_in(watched: Any, token: str) -> None:
    """Sign in through the dashboard's form, as a person does."""
    page = watched.page
    page.goto(f"{watched.base_url}/ui/")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.locator("#sign-out").wait_for()
