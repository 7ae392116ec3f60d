"""The original pattern and practice routes: the envelope, snake_case fields, lower-case
enum values, new ids in the answers, and 4xx for what is wrong."""

from __future__ import annotations

import pytest
from library_kit import Community, community

from arcos.community.library_models import BestPractice, PracticeVote, QualityPattern

PATTERN = {
    "name": "Coverage gate", "category": "testing",
    "description": "Fail when coverage drops; ask jane.doe@globex.example.com.",
    "pattern": {"metrics": ["coverage.line_rate"], "threshold": 0.8}, "tags": ["coverage"],
}
PRACTICE = {
    "title": "Pin actions", "category": "security", "industry": "finance",
    "description": "Pin third-party CI actions by commit.", "steps": ["list", "pin"],
    "examples": ["uses: actions/checkout@<sha>"], "references": [],
}


@pytest.fixture
async def c(settings) -> Community:
    async with community(settings) as running:
        yield running


async def test_share_list_and_search_patterns(c: Community) -> None:
    response = await c.owner.http.post("/api/community/patterns/share", json={
        "pattern": PATTERN, "permission": "public", "anonymize": True})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["success"] is True and body["pattern_id"] == body["pattern"]["id"]
    shared = body["pattern"]
    assert (shared["category"], shared["visibility"]) == ("testing", "public")
    assert shared["description"] == "Fail when coverage drops; ask [redacted:email]."
    assert shared["author"] is None and shared["anonymized"] is True
    assert {"rating_count", "usage_count", "created_at"} <= set(shared)
    assert response.headers["API-Version"] == "legacy"

    listed = (await c.anonymous.http.get("/api/community/patterns/list?category=testing"))
    assert listed.status_code == 200
    assert [p["id"] for p in listed.json()["patterns"]] == [shared["id"]]
    assert listed.json()["total_count"] == 1 and listed.json()["next_cursor"] is None
    found = await c.member.http.get("/api/community/patterns/search", params={"q": "gate"})
    assert found.json()["patterns"][0]["id"] == shared["id"]
    none = await c.member.http.get("/api/community/patterns/search", params={"q": "absent"})
    assert none.json()["count"] == 0
    missing_q = await c.member.http.get("/api/community/patterns/search")
    assert missing_q.status_code == 400 and missing_q.json()["success"] is False


@pytest.mark.parametrize(("body", "status", "words"), [
    ({"pattern": {**PATTERN, "category": "vibes"}}, 400, "pattern.category must be one of"),
    ({"pattern": PATTERN, "permission": "everyone"}, 400, "permission must be one of"),
    ({"pattern": PATTERN, "anonymize": "yes"}, 400, "anonymize must be true or false"),
    ({"pattern": PATTERN, "extra": 1}, 400, "unknown fields: extra"),
    ({"patterns": PATTERN}, 400, "send {\"pattern\""),
    ({"pattern": {**PATTERN, "pattern": {"x": "y" * 70_000}}}, 422, "at most 65536 bytes"),
    ({"pattern": {**PATTERN, "colour": "red"}}, 400, "colour"),
])
async def test_bad_share_bodies_write_nothing(c: Community, body: dict, status: int,
                                              words: str) -> None:
    response = await c.owner.http.post("/api/community/patterns/share", json=body)
    assert response.status_code == status, response.text
    assert response.json()["success"] is False
    assert words in response.json()["error"]
    assert await QualityPattern.all().count() == 0


async def test_practices_add_list_and_upvote(c: Community) -> None:
    response = await c.owner.http.post("/api/community/practices/add", json={
        "practice": PRACTICE, "permission": "community"})
    assert response.status_code == 201, response.text
    practice_id = response.json()["practice_id"]
    assert response.json()["practice"]["visibility"] == "community"
    assert response.json()["practice"]["author"] == {"name": "alice", "reputation": 0}

    listed = await c.member.http.get("/api/community/practices/list",
                                     params={"industry": "finance", "category": "security"})
    assert [p["id"] for p in listed.json()["practices"]] == [practice_id]
    assert (await c.anonymous.http.get("/api/community/practices/list")).json()["count"] == 0

    path = f"/api/community/practices/{practice_id}/upvote"
    voted = await c.member.http.post(path)
    assert voted.status_code == 200, voted.text
    assert (voted.json()["upvotes"], voted.json()["counted"]) == (1, True)
    assert voted.json()["practice_id"] == practice_id
    again = await c.member.http.post(path)
    assert (again.json()["upvotes"], again.json()["counted"]) == (1, False)
    own = await c.owner.http.post(path)
    assert own.status_code == 422 and "your own" in own.json()["error"]
    assert (await c.anonymous.http.post(path)).status_code == 401
    assert await PracticeVote.all().count() == 1


async def test_upvote_ids_and_bad_practices(c: Community) -> None:
    unknown = await c.member.http.post(
        "/api/community/practices/7d0b5c5e-0000-4000-8000-000000000000/upvote")
    assert unknown.status_code == 404
    malformed = await c.member.http.post("/api/community/practices/nonsense/upvote")
    assert malformed.status_code == 400
    bad = await c.owner.http.post("/api/community/practices/add", json={
        "practice": {**PRACTICE, "steps": ["s"] * 60}})
    assert bad.status_code == 422 and bad.json()["errors"][0]["extensions"]["field"] == "steps"
    assert await BestPractice.all().count() == 0


async def test_routes_are_in_openapi(c: Community) -> None:
    document = (await c.member.http.get("/api/openapi.json")).json()
    paths = document["paths"]
    for path, method in (("/api/community/patterns/share", "post"),
                         ("/api/community/patterns/list", "get"),
                         ("/api/community/patterns/search", "get"),
                         ("/api/community/practices/add", "post"),
                         ("/api/community/practices/list", "get"),
                         ("/api/community/practices/{practice_id}/upvote", "post")):
        assert method in paths[path], path
    listing = paths["/api/community/patterns/list"]["get"]["responses"]["200"]
    schema = listing["content"]["application/json"]["schema"]
    category = schema["properties"]["patterns"]["items"]["properties"]["category"]
    assert "testing" in str(category)
