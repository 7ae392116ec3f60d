"""Best practices through GraphQL: adding, filtering, searching, editing, and upvotes that
count once per principal however many arrive at once."""

from __future__ import annotations

import asyncio

import pytest
from library_kit import (
    ADD,
    PRACTICES,
    UPVOTE,
    WITHDRAW,
    Community,
    add,
    community,
    practice_input,
)

from arcos.community.library_models import BestPractice, PracticeVote

UPDATE = """mutation($id: String!, $input: UpdatePracticeInput!) { updatePractice(id: $id,
  input: $input) { practice { title industry steps } errors { field message code } } }"""


@pytest.fixture
async def c(settings) -> Community:
    async with community(settings) as running:
        yield running


async def test_twenty_concurrent_upvotes_by_one_principal_count_once(c: Community) -> None:
    practice = await add(c.owner, **practice_input("Pin actions"))
    payloads = await asyncio.gather(*(
        c.member.data(UPVOTE, {"id": practice["id"]}) for _ in range(20)))
    results = [p["upvotePractice"] for p in payloads]
    assert all(r["errors"] == [] for r in results), results
    assert sum(r["changed"] for r in results) == 1
    assert await PracticeVote.all().count() == 1
    shown = (await c.member.data(PRACTICES, {"first": 5}))["practices"]["nodes"][0]
    assert (shown["upvotes"], shown["upvotedByMe"]) == (1, True)
    assert shown["author"]["reputation"] == 2
    # Another principal's vote counts too.
    assert (await c.admin.data(UPVOTE, {"id": practice["id"]}))["upvotePractice"]["changed"]
    assert await PracticeVote.all().count() == 2
    stats = (await c.anonymous.data("{ communityStats { votes tallies { name count } } }"))
    tallies = {t["name"]: t["count"] for t in stats["communityStats"]["tallies"]}
    assert tallies["practice_upvotes"] == 2 and stats["communityStats"]["votes"] == 2


async def test_self_vote_is_refused_and_withdrawing_takes_the_vote_back(c: Community) -> None:
    practice = await add(c.owner, **practice_input("Signed commits"))
    own = (await c.owner.data(UPVOTE, {"id": practice["id"]}))["upvotePractice"]
    assert own["practice"] is None and "your own" in own["errors"][0]["message"]
    assert await PracticeVote.all().count() == 0
    await c.member.data(UPVOTE, {"id": practice["id"]})
    taken = (await c.member.data(WITHDRAW, {"id": practice["id"]}))["withdrawUpvote"]
    assert taken == {"practice": {"upvotes": 0}, "changed": True, "errors": []}
    again = (await c.member.data(WITHDRAW, {"id": practice["id"]}))["withdrawUpvote"]
    assert again["changed"] is False
    # Anonymous readers may read, never vote.
    anonymous = await c.anonymous.gql(UPVOTE, {"id": practice["id"]})
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_filters_search_and_edits(c: Community) -> None:
    await add(c.owner, **practice_input("Threat modelling", industry="Healthcare",
                                        category="PROCESS",
                                        steps=["draw the data flow", "list STRIDE threats"]))
    await add(c.owner, **practice_input("Dependency review", industry="finance"))
    health = (await c.member.data(PRACTICES, {"first": 5, "industry": "healthcare"}))
    assert [n["title"] for n in health["practices"]["nodes"]] == ["Threat modelling"]
    process = (await c.member.data(PRACTICES, {"first": 5, "category": "PROCESS"}))
    assert process["practices"]["totalCount"] == 1
    # Steps are searched too.
    stride = (await c.member.data(PRACTICES, {"first": 5, "search": "stride"}))
    assert [n["title"] for n in stride["practices"]["nodes"]] == ["Threat modelling"]
    practice_id = stride["practices"]["nodes"][0]["id"]
    edited = (await c.owner.data(UPDATE, {"id": practice_id, "input": {
        "steps": ["map trust boundaries"], "industry": ""}}))["updatePractice"]
    assert edited == {"practice": {"title": "Threat modelling", "industry": None,
                                   "steps": ["map trust boundaries"]}, "errors": []}
    assert (await c.member.data(PRACTICES, {"first": 5, "search": "stride"})
            )["practices"]["totalCount"] == 0
    assert (await c.member.data(PRACTICES, {"first": 5, "search": "boundaries"})
            )["practices"]["totalCount"] == 1
    refused = (await c.member.data(UPDATE, {"id": practice_id, "input": {"title": "x"}}))
    assert refused["updatePractice"]["errors"][0]["code"] == "INVALID"


@pytest.mark.parametrize(("changes", "field", "code"), [
    ({"title": ""}, "title", "REQUIRED"),
    ({"steps": ["s"] * 51}, "steps", "TOO_LARGE"),
    ({"examples": ["e" * 2001]}, "examples.0", "TOO_LARGE"),
    ({"industry": "i" * 65}, "industry", "TOO_LARGE"),
    ({"description": "d" * 20_001}, "description", "TOO_LARGE"),
])
async def test_bad_practices_write_nothing(c: Community, changes: dict, field: str,
                                           code: str) -> None:
    payload = (await c.owner.data(ADD, {"input": {**practice_input("Bad"), **changes}}))
    errors = payload["addPractice"]["errors"]
    assert (errors[0]["field"], errors[0]["code"]) == (field, code), errors
    assert await BestPractice.all().count() == 0


async def test_unknown_practice_ids(c: Community) -> None:
    bad = await c.member.gql(UPVOTE, {"id": "'; DROP TABLE community_practice; --"})
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    missing = await c.member.data(UPVOTE, {"id": "7d0b5c5e-0000-4000-8000-000000000000"})
    assert missing["upvotePractice"]["errors"][0]["code"] == "NOT_FOUND"
