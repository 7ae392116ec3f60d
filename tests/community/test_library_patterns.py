"""Quality patterns through GraphQL: sharing, editing, rating, ranked search on both stores,
and bad input refused with nothing written."""

from __future__ import annotations

import asyncio

import pytest
from library_kit import (
    PATTERNS,
    RATE,
    SHARE,
    Community,
    community,
    pattern_input,
    share,
)

from arcos.community.library_models import PatternRating, QualityPattern
from arcos.community.library_schema import PATTERN_CURSOR
from arcos.graphql.pagination import encode_cursor

UPDATE = """mutation($id: String!, $input: UpdatePatternInput!) { updatePattern(id: $id,
  input: $input) { pattern { name tags metrics visibility } errors { field message code } } }"""


@pytest.fixture
async def c(settings) -> Community:
    async with community(settings) as running:
        yield running


async def test_share_and_read_back(c: Community) -> None:
    shared = await share(c.owner, **pattern_input("Coverage gate", tags=["Coverage", "CI",
                                                                         "coverage"]))
    assert shared["metrics"] == ["coverage.line_rate"]
    assert shared["tags"] == ["coverage", "ci"]
    assert shared["author"] == {"name": "alice", "reputation": 0}
    assert shared["category"] == "TESTING" and shared["visibility"] == "PUBLIC"
    assert shared["averageRating"] is None and shared["ratingCount"] == 0
    page = (await c.member.data(PATTERNS, {"first": 10}))["patterns"]
    assert [node["id"] for node in page["nodes"]] == [shared["id"]]


async def test_rating_replaces_and_own_rating_is_refused(c: Community) -> None:
    shared = await share(c.owner, **pattern_input("Mutation testing"))
    first = (await c.member.data(RATE, {"id": shared["id"], "stars": 2}))["ratePattern"]
    assert first["errors"] == [] and first["pattern"]["myRating"] == 2
    again = (await c.member.data(RATE, {"id": shared["id"], "stars": 5}))["ratePattern"]
    assert again["pattern"]["ratingCount"] == 1
    assert again["pattern"]["averageRating"] == 5.0
    await c.admin.data(RATE, {"id": shared["id"], "stars": 3})
    both = (await c.owner.data(PATTERNS, {"first": 5}))["patterns"]["nodes"][0]
    assert (both["ratingCount"], both["averageRating"]) == (2, 4.0)
    own = (await c.owner.data(RATE, {"id": shared["id"], "stars": 5}))["ratePattern"]
    assert own["pattern"] is None
    assert own["errors"][0]["field"] == "id" and "your own" in own["errors"][0]["message"]
    assert await PatternRating.filter(rater="alice").count() == 0
    # Reputation: (5 - 1) + (3 - 1) from two others.
    assert both["author"]["reputation"] == 6


@pytest.mark.parametrize("stars", [0, 6, -1])
async def test_stars_out_of_range_write_nothing(c: Community, stars: int) -> None:
    shared = await share(c.owner, **pattern_input("Contract tests"))
    payload = (await c.member.data(RATE, {"id": shared["id"], "stars": stars}))["ratePattern"]
    assert payload["errors"] == [{"field": "stars", "code": "INVALID",
                                  "message": f"stars must be 1 to 5 (got {stars})"}]
    assert await PatternRating.all().count() == 0


async def test_bad_ids_are_clear_errors(c: Community) -> None:
    body = await c.member.gql(RATE, {"id": "not-an-id", "stars": 3})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "is not a QualityPattern id" in body["errors"][0]["message"]
    missing = await c.member.data(RATE, {"id": "00000000-0000-0000-0000-000000000000",
                                         "stars": 3})
    assert missing["ratePattern"]["errors"][0]["code"] == "NOT_FOUND"
    practice_id = "QmVzdFByYWN0aWNlOjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMA=="
    wrong_kind = await c.member.gql(RATE, {"id": practice_id, "stars": 3})
    assert wrong_kind["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(("changes", "field", "code"), [
    ({"pattern": {"blob": "x" * 70_000}}, "pattern", "TOO_LARGE"),
    ({"pattern": ["not", "an", "object"]}, "pattern", "INVALID"),
    ({"pattern": {"metrics": "coverage.line_rate"}}, "pattern.metrics", "INVALID"),
    ({"pattern": {"metrics": ["Coverage Line Rate!"]}}, "pattern.metrics.0", "INVALID"),
    ({"name": "   "}, "name", "REQUIRED"),
    ({"name": "n" * 201}, "name", "TOO_LARGE"),
    ({"tags": ["t"] * 21}, "tags", "TOO_LARGE"),
    ({"tags": ["a|b"]}, "tags.0", "INVALID"),
])
async def test_bad_input_is_refused_and_writes_nothing(
    c: Community, changes: dict, field: str, code: str
) -> None:
    payload = await c.owner.data(SHARE, {"input": {**pattern_input("Bad"), **changes}})
    errors = payload["sharePattern"]["errors"]
    assert payload["sharePattern"]["pattern"] is None
    assert (errors[0]["field"], errors[0]["code"]) == (field, code), errors
    assert await QualityPattern.all().count() == 0


async def test_deep_pattern_json_is_refused(c: Community) -> None:
    deep: dict = {}
    node = deep
    for _ in range(40):
        node["next"] = {}
        node = node["next"]
    payload = await c.owner.data(SHARE, {"input": pattern_input("Deep", pattern=deep)})
    assert payload["sharePattern"]["errors"][0]["code"] == "TOO_LARGE"
    assert await QualityPattern.all().count() == 0


async def test_unknown_category_is_a_graphql_error(c: Community) -> None:
    body = await c.owner.gql(SHARE, {"input": pattern_input("X", category="VIBES")})
    assert "VIBES" in body["errors"][0]["message"]
    assert await QualityPattern.all().count() == 0


async def test_owner_edits_others_may_not(c: Community) -> None:
    shared = await share(c.owner, **pattern_input("Flaky-test quarantine"))
    edited = (await c.owner.data(UPDATE, {"id": shared["id"], "input": {
        "tags": ["flaky"], "pattern": {"metrics": ["tests.pass_rate"]},
        "visibility": "COMMUNITY"}}))["updatePattern"]
    assert edited["errors"] == []
    assert edited["pattern"] == {"name": "Flaky-test quarantine", "tags": ["flaky"],
                                 "metrics": ["tests.pass_rate"], "visibility": "COMMUNITY"}
    refused = (await c.member.data(UPDATE, {"id": shared["id"], "input": {"name": "mine"}}))
    assert refused["updatePattern"]["errors"][0]["field"] == "id"
    by_admin = (await c.admin.data(UPDATE, {"id": shared["id"], "input": {"name": "Quarantine"}}))
    assert by_admin["updatePattern"]["pattern"]["name"] == "Quarantine"
    # The edit reached the search index (triggers / generated column).
    found = (await c.member.data(PATTERNS, {"search": "quarantine", "first": 5}))["patterns"]
    assert found["totalCount"] == 1
    assert (await c.member.data(PATTERNS, {"search": "flaky test", "first": 5})
            )["patterns"]["totalCount"] == 1


async def test_search_ranks_title_over_tags_over_description(c: Community) -> None:
    in_description = await share(c.owner, **pattern_input(
        "Gate A", description="Use a mutation score gate.", tags=["x"]))
    in_name = await share(c.owner, **pattern_input(
        "Mutation gate", description="Score gate.", tags=["y"]))
    in_tags = await share(c.owner, **pattern_input(
        "Gate B", description="Score gate.", tags=["mutation"]))
    await share(c.owner, **pattern_input("Unrelated", description="Nothing here.",
                                         tags=["z"]))
    page = (await c.member.data(PATTERNS, {"search": "mutat", "first": 10}))["patterns"]
    assert [n["id"] for n in page["nodes"]] == [in_name["id"], in_tags["id"],
                                                in_description["id"]]
    assert page["totalCount"] == 3
    every_word = (await c.member.data(PATTERNS, {"search": "mutation use", "first": 10}))
    assert {n["id"] for n in every_word["patterns"]["nodes"]} == {in_description["id"]}
    paged = (await c.member.data(PATTERNS, {"search": "gate", "first": 2}))["patterns"]
    rest = (await c.member.data(PATTERNS, {"search": "gate", "first": 2,
                                           "after": paged["pageInfo"]["endCursor"]}))
    assert paged["totalCount"] == 3 and paged["pageInfo"]["hasNextPage"]
    assert len({n["id"] for n in paged["nodes"] + rest["patterns"]["nodes"]}) == 3


async def test_hostile_search_text_is_only_words(c: Community) -> None:
    await share(c.owner, **pattern_input("Quote's gate"))
    for query in ("quote's", "' OR 1=1 --", "\"gate\" NEAR(x)", "gate:* & !x", "gate*"):
        body = await c.member.gql(PATTERNS, {"search": query, "first": 5})
        assert "errors" not in body, (query, body)
    nothing = await c.member.gql(PATTERNS, {"search": "!!! ???", "first": 5})
    assert nothing["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_cursor_past_any_listing_is_bad_input_not_an_internal_error(
        c: Community) -> None:
    """An offset of 2**63 - 1 in a forged cursor used to overflow the SQL OFFSET."""
    await share(c.owner, **pattern_input("One"))
    forged = encode_cursor(PATTERN_CURSOR, 2**63 - 1)
    body = await c.member.gql(PATTERNS, {"first": 5, "after": forged})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
    assert "is not a cursor this community-pattern list returned" in \
        body["errors"][0]["message"]


async def test_filters_by_category_and_exact_tag(c: Community) -> None:
    await share(c.owner, **pattern_input("One", tags=["ci"]))
    await share(c.owner, **pattern_input("Two", tags=["cicd"], category="SECURITY"))
    by_tag = (await c.member.data(PATTERNS, {"tag": "ci", "first": 5}))["patterns"]
    assert [n["name"] for n in by_tag["nodes"]] == ["One"] and by_tag["totalCount"] == 1
    by_category = (await c.member.data(PATTERNS, {"category": "SECURITY", "first": 5}))
    assert [n["name"] for n in by_category["patterns"]["nodes"]] == ["Two"]


async def test_rows_stored_before_the_search_index_existed_are_found(c: Community) -> None:
    """The index is built on first use; rows already there (an older store) are indexed
    then, and rows written outside the services after that by the triggers / the
    generated column."""
    from datetime import UTC, datetime

    from arcos.community.sharing import Visibility

    now = datetime.now(UTC)
    common = {"owner": "alice", "visibility": Visibility.PUBLIC, "created_at": now,
              "updated_at": now, "category": "testing", "pattern": {}}
    await QualityPattern.create(name="Legacy gate", description="old", **common)
    found = (await c.member.data(PATTERNS, {"search": "legacy", "first": 5}))["patterns"]
    assert found["totalCount"] == 1
    await QualityPattern.create(name="Later gate", description="new", **common)
    assert (await c.member.data(PATTERNS, {"search": "later", "first": 5})
            )["patterns"]["totalCount"] == 1
    await QualityPattern.filter(name="Later gate").delete()
    assert (await c.member.data(PATTERNS, {"search": "gate", "first": 5})
            )["patterns"]["totalCount"] == 1


async def test_concurrent_ratings_by_one_principal_leave_one(c: Community) -> None:
    shared = await share(c.owner, **pattern_input("Chaos drills"))
    payloads = await asyncio.gather(*(
        c.member.data(RATE, {"id": shared["id"], "stars": 1 + n % 5}) for n in range(10)))
    assert all(p["ratePattern"]["errors"] == [] for p in payloads), payloads
    rows = await PatternRating.all()
    assert len(rows) == 1 and 1 <= rows[0].stars <= 5
