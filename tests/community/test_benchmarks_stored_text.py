"""A benchmark's name as it is stored: no NUL or lone surrogate (sent as raw JSON
escapes), and, when anonymised, no longer than its column once scrubbed — each a field
problem, never a 500."""

from __future__ import annotations

import json

import pytest
from benchmarks_kit import ADD, added, benchmark_input, principals
from conftest import RunningApp
from test_benchmarks_api import UPDATE

#: 40 host names: 199 characters as sent, about 600 once each is [redacted:host].
GROWS = " ".join(["a.io"] * 40)


@pytest.mark.parametrize("bad", ["a\u0000b", "a\ud800b"], ids=["nul", "surrogate"])
async def test_unstorable_benchmark_name_is_a_field_problem(app: RunningApp, bad: str) -> None:
    raw = json.dumps({"query": ADD, "variables": {"input": benchmark_input(name=bad)}})
    async with app.client(await app.issue("alice", "community:read", "community:write")) as http:
        response = await http.post("/graphql", content=raw,
                                   headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    payload = response.json()["data"]["addBenchmark"]
    assert payload["benchmark"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("name", "INVALID")]


async def test_an_anonymised_name_that_outgrows_its_column_is_refused(app: RunningApp) -> None:
    who = await principals(app)
    try:
        assert len(GROWS) <= 200
        body = await who.owner(ADD, {"input": benchmark_input(name=GROWS, anonymize=True)})
        assert "errors" not in body, body
        payload = body["data"]["addBenchmark"]
        assert payload["benchmark"] is None
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [("name", "TOO_LARGE")]
        assert "redacted" in payload["errors"][0]["message"]
        anonymised = await added(who.owner, name="Mail a@b.example", anonymize=True)
        changes = benchmark_input(name=GROWS)
        body = await who.owner(UPDATE, {"input": {**changes, "id": anonymised["id"]}})
        assert "errors" not in body, body
        payload = body["data"]["updateBenchmark"]
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [("name", "TOO_LARGE")]
    finally:
        await who.close()
