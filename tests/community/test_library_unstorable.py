"""Text and JSON no store can keep (NUL, lone UTF-16 surrogates, numbers beyond 1e308) in
a shared pattern or practice: a field problem naming it, never a 500 or a stored Infinity.

The bodies are sent as raw JSON text, as a hostile client would: `\\u0000`, `\\ud800` and
`1e400` only exist in the decoded value."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from conftest import RunningApp
from library_kit import ADD, PATTERNS, SHARE, pattern_input, practice_input

RW = ("community:read", "community:write")
BAD = {"nul": "a\u0000b", "surrogate": "a\ud800b"}
#: Where the bad text goes: (mutation, its payload's name, the input, the field refused).
PLACES: dict[str, tuple[str, str, Any, str]] = {
    "pattern.name": (SHARE, "sharePattern", lambda bad: {**pattern_input("p"), "name": f"p{bad}"}, "name"),
    "pattern.description": (SHARE, "sharePattern",
                            lambda bad: pattern_input("p", description=bad), "description"),
    "pattern.tags": (SHARE, "sharePattern", lambda bad: pattern_input("p", tags=[bad]),
                     "tags.0"),
    "pattern.json value": (SHARE, "sharePattern",
                           lambda bad: pattern_input("p", pattern={"metrics": [], "x": [bad]}),
                           "pattern"),
    "pattern.json key": (SHARE, "sharePattern",
                         lambda bad: pattern_input("p", pattern={"metrics": [], bad: 1}),
                         "pattern"),
    "practice.title": (ADD, "addPractice", lambda bad: {**practice_input("t"), "title": f"t{bad}"}, "title"),
    "practice.industry": (ADD, "addPractice", lambda bad: practice_input("t", industry=bad),
                          "industry"),
    "practice.steps": (ADD, "addPractice", lambda bad: practice_input("t", steps=["ok", bad]),
                       "steps.1"),
    "practice.examples": (ADD, "addPractice", lambda bad: practice_input("t", examples=[bad]),
                          "examples.0"),
    "practice.references": (ADD, "addPractice",
                            lambda bad: practice_input("t", references=[bad]), "references.0"),
}


async def _post(app: RunningApp, raw: str) -> dict[str, Any]:
    async with app.client(await app.issue(f"alice-{uuid.uuid4()}", *RW)) as http:
        response = await http.post("/graphql", content=raw,
                                   headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


@pytest.mark.parametrize("bad", list(BAD.values()), ids=list(BAD))
@pytest.mark.parametrize("place", list(PLACES))
async def test_unstorable_text_is_a_field_problem(app: RunningApp, place: str, bad: str) -> None:
    query, payload_name, build, field = PLACES[place]
    raw = json.dumps({"query": query, "variables": {"input": build(bad)}})  # ASCII escapes
    payload = (await _post(app, raw))[payload_name]
    assert payload["pattern" if payload_name == "sharePattern" else "practice"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, "INVALID")], payload
    assert "NUL" in payload["errors"][0]["message"]


async def test_a_number_beyond_1e308_in_pattern_json_is_refused(app: RunningApp) -> None:
    variables = {"input": pattern_input("n", pattern={"metrics": [], "x": {"y": "INF"}})}
    raw = json.dumps({"query": SHARE, "variables": variables}).replace('"INF"', "1e400")
    payload = (await _post(app, raw))["sharePattern"]
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("pattern", "INVALID")]
    assert "not finite" in payload["errors"][0]["message"]
    listed = await _post(app, json.dumps({"query": PATTERNS, "variables": {"first": 5}}))
    assert listed["patterns"]["totalCount"] == 0
