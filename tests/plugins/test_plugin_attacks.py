"""The reference's escape (E1-E14) and resource (R) cases through the public GraphQL path:
refused at registration, and, forced past it (a test-only path), still unable to reach the
host; resource attacks end in a bounded error while the server answers other queries."""

from __future__ import annotations

import asyncio
import builtins
import json
import os
import time
from pathlib import Path

import pytest
from conftest import GraphQLClient, RunningApp, running_app
from escape_corpus import CORPUS, ENTRY_POINT, ESCAPE_ENV, HOST_OBJECT_MARKERS
from plugin_kit import REGISTER, execute, force_version, manifest

from arcos.plugins.host import HOST
from arcos.settings import Settings

SECRET = "the server's secret"


async def test_every_escape_is_refused_at_registration_and_contained_when_forced(
    settings: Settings, tmp_path: Path
):
    # Four writes per case, more than the default write rate allows in a minute.
    unlimited = settings.replace(write_rate_per_minute=100_000, write_burst=100_000)
    async with running_app(unlimited) as app, app.client(app.admin_token) as http:
        await _escape_corpus(app, GraphQLClient(http), tmp_path)


async def _escape_corpus(app: RunningApp, gql: GraphQLClient, tmp_path: Path) -> None:
    host = app.app.state.services.domain_services[HOST]
    sentinel, marker = tmp_path / "secret.txt", tmp_path / "marker"
    sentinel.write_text(SECRET)
    for index, case in enumerate(CORPUS):
        plugin_id = f"evil.case{index}"
        answer = await gql(REGISTER, {"input": {
            "manifest": manifest(plugin_id=plugin_id, entry_point=ENTRY_POINT,
                                 permissions=()),
            "code": case.source}})
        assert answer.get("data"), (case.name, answer)
        refused = answer["data"]["registerPlugin"]
        assert refused["plugin"] is None, case.name
        assert any(p["field"] == "code" and p["line"] == case.line
                   for p in refused["problems"]), (case.name, refused["problems"])

        await force_version(host, case.source, plugin_id=plugin_id, entry_point=ENTRY_POINT,
                            permissions=())
        for _ in range(2):  # a second call sees no state the first one left
            forks = host.sandbox_calls
            body = await execute(gql, plugin_id, input={
                "sentinel": str(sentinel), "marker": str(marker)})
            # The forced code ran (else "nothing leaked" would prove nothing).
            assert host.sandbox_calls == forks + 1, case.name
            assert body["data"]["executePlugin"]["execution"] is not None, (case.name, body)
            text = json.dumps(body)
            assert SECRET not in text, case.name
            assert not any(found in text for found in HOST_OBJECT_MARKERS), (case.name, text)
            assert "INTERNAL_SERVER_ERROR" not in text, (case.name, text)
        assert not marker.exists(), case.name
        assert ESCAPE_ENV not in os.environ and not hasattr(builtins, ESCAPE_ENV), case.name


RESOURCE_CASES = {
    "R1-spin": "def run():\n    while True:\n        pass\n",
    "R3-memory": "def run():\n    return len('a' * 10 ** 10)\n",
    "R3-bignum": "def run():\n    return 10 ** 10 ** 8 > 1\n",
    "R5-recursion": "def run(n=0):\n    return run(n + 1)\n",
    "R6-output": "def run():\n    return 'x' * (8 * 1024 * 1024)\n",
    "R7-nan": "def run():\n    return float('nan')\n",
    "R7-deep": ("def run():\n    value = []\n    for i in range(100000):\n"
                "        value = [value]\n    return value\n"),
}


@pytest.mark.parametrize("name", sorted(RESOURCE_CASES))
async def test_resource_attacks_end_in_a_bounded_error_while_the_server_answers(
    app: RunningApp, gql: GraphQLClient, name: str
):
    code = RESOURCE_CASES[name]
    registered = (await gql(REGISTER, {"input": {
        "manifest": manifest(entry_point="run", permissions=()), "code": code}}))["data"][
        "registerPlugin"]
    assert registered["errors"] == [], registered
    deadline = app.app.state.settings.plugin_timeout_seconds
    started = time.monotonic()
    attack = asyncio.ensure_future(execute(gql, "acme.coverage_gate"))
    answered = 0
    while not attack.done():
        listed = await gql("{ plugins { totalCount } }")
        assert listed["data"]["plugins"]["totalCount"] == 1
        answered += 1
        await asyncio.sleep(0.05)
    elapsed = time.monotonic() - started
    payload = attack.result()["data"]["executePlugin"]
    assert payload["execution"]["status"] != "SUCCEEDED", payload
    assert payload["errors"] and len(payload["errors"][0]["message"]) > 10
    assert elapsed < deadline + 1, elapsed
    assert answered >= 1
