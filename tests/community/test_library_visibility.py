"""Who sees which pattern and practice, on every read path: GraphQL lists, search,
totalCount, node(id), the REST list and search routes, and communityStats' tallies.

Three visibilities by four readers (the owner, another member, an anonymous reader with
ARCOS_ANONYMOUS_READ on, an admin); a private item changes nothing another reader gets
back, not even the order of a search."""

from __future__ import annotations

from typing import Any

import pytest
from library_kit import (
    NODE,
    PATTERNS,
    PRACTICES,
    RATE,
    UPVOTE,
    Community,
    Principal,
    add,
    community,
    pattern_input,
    practice_input,
    share,
)

VISIBILITIES = ("PUBLIC", "COMMUNITY", "PRIVATE")
#: What each reader sees of the owner's three items.
SEES = {
    "owner": {"PUBLIC", "COMMUNITY", "PRIVATE"},
    "member": {"PUBLIC", "COMMUNITY"},
    "anonymous": {"PUBLIC"},
    "admin": {"PUBLIC", "COMMUNITY", "PRIVATE"},
}
STATS = """{ communityStats { votes kinds { kind public community private total }
  tallies { name count } } }"""


@pytest.fixture
async def c(settings) -> Community:
    async with community(settings) as running:
        yield running


async def _seed(c: Community) -> dict[str, dict[str, str]]:
    """One pattern and one practice per visibility, all named for it and all matching the
    word 'gate'; returns their ids by kind and visibility."""
    ids: dict[str, dict[str, str]] = {"pattern": {}, "practice": {}}
    for visibility in VISIBILITIES:
        pattern = await share(c.owner, **pattern_input(f"{visibility} gate",
                                                       visibility=visibility))
        practice = await add(c.owner, **practice_input(f"{visibility} gate",
                                                       visibility=visibility))
        ids["pattern"][visibility] = pattern["id"]
        ids["practice"][visibility] = practice["id"]
    return ids


def _visible(ids: dict[str, str], reader: str) -> set[str]:
    return {ids[visibility] for visibility in SEES[reader]}


async def _rest(who: Principal, path: str, key: str) -> tuple[set[str], int]:
    response = await who.http.get(path)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(body[key])
    return {item["id"] for item in body[key]}, body["total_count"]


@pytest.mark.parametrize("reader", sorted(SEES))
async def test_every_read_path_applies_visibility(c: Community, reader: str) -> None:
    ids = await _seed(c)
    who = c.readers[reader]
    for kind, query, key in (("pattern", PATTERNS, "patterns"),
                             ("practice", PRACTICES, "practices")):
        expected = _visible(ids[kind], reader)
        for search in (None, "gate"):
            page = (await who.data(query, {"first": 10, "search": search}))[key]
            assert {node["id"] for node in page["nodes"]} == expected, (kind, search)
            assert page["totalCount"] == len(expected)
        for visibility, item_id in ids[kind].items():
            node = (await who.data(NODE, {"id": item_id}))["node"]
            assert (node is not None) == (visibility in SEES[reader]), (kind, visibility)
    rest_paths = {
        "pattern": ("/api/community/patterns/list", "/api/community/patterns/search?q=gate"),
        "practice": ("/api/community/practices/list", "/api/community/practices/list?q=gate"),
    }
    for kind, paths in rest_paths.items():
        for path in paths:
            found, total = await _rest(who, path, f"{kind}s")
            assert found == _visible(ids[kind], reader), path
            assert total == len(found)
    stats = (await who.data(STATS))["communityStats"]
    counts = {k["kind"]: k for k in stats["kinds"]}
    for kind in ("pattern", "practice"):
        assert counts[kind]["total"] == len(SEES[reader])
        assert counts[kind]["private"] == ("PRIVATE" in SEES[reader])


async def test_a_private_item_changes_no_ranking_count_or_tally_others_see(
    c: Community
) -> None:
    await share(c.owner, **pattern_input("Gate", description="A gate. Another gate.",
                                         tags=["gate", "review"]))
    await share(c.owner, **pattern_input("Review checklist", description="Review gate.",
                                         tags=["review"]))
    await share(c.owner, **pattern_input("Gate keeper", description="Review.", tags=["x"]))
    readers = (c.member, c.anonymous)

    async def views() -> list[Any]:
        seen = []
        for who in readers:
            for search in ("gate", "gate review", "review"):
                page = (await who.data(PATTERNS, {"first": 2, "search": search}))["patterns"]
                seen.append(([n["id"] for n in page["nodes"]], page["totalCount"],
                             page["pageInfo"]))
            seen.append((await who.data(STATS))["communityStats"])
        return seen

    before = await views()
    private = await share(c.owner, **pattern_input(
        "Gate gate gate review", description="gate review " * 50,
        tags=["gate", "review"], visibility="PRIVATE"))
    # Activity on the private item (an admin may read and rate it) shows nowhere either.
    assert (await c.admin.data(RATE, {"id": private["id"], "stars": 5}))["ratePattern"][
        "errors"] == []
    assert await views() == before
    owner_view = (await c.owner.data(PATTERNS, {"first": 5, "search": "gate review"}))
    assert owner_view["patterns"]["nodes"][0]["id"] == private["id"]


async def test_reputation_counts_only_what_others_may_see(c: Community) -> None:
    public = await add(c.owner, **practice_input("Public", visibility="PUBLIC"))
    hidden_author = await add(c.owner, **practice_input("Anon", anonymize=True))
    private = await add(c.owner, **practice_input("Private", visibility="PRIVATE"))
    for item in (public, hidden_author, private):
        payload = (await c.admin.data(UPVOTE, {"id": item["id"]}))["upvotePractice"]
        assert payload["errors"] == [] and payload["changed"]
    assert (await c.member.data(UPVOTE, {"id": public["id"]}))["upvotePractice"]["changed"]
    shown = (await c.anonymous.data(PRACTICES, {"first": 5}))["practices"]["nodes"]
    by_title = {node["title"]: node for node in shown}
    # Two upvotes of the public practice; the anonymised and private ones add nothing.
    assert by_title["Public"]["author"] == {"name": "alice", "reputation": 4}
    assert by_title["Anon"]["author"] is None
    admin_view = (await c.admin.data(PRACTICES, {"first": 5}))["practices"]["nodes"]
    # An admin reads the private practice too, so its upvote counts for the admin.
    assert {n["title"]: n["author"] for n in admin_view}["Anon"] == {
        "name": "alice", "reputation": 6}


async def test_hidden_and_withdrawn_items_leave_every_list(c: Community) -> None:
    hidden = await share(c.owner, **pattern_input("Hidden gate"))
    withdrawn = await share(c.owner, **pattern_input("Withdrawn gate"))
    hide = """mutation($id: ID!) { hideCommunityItem(id: $id, reason: "spam") {
      errors { message } } }"""
    withdraw = """mutation($id: ID!) { withdrawCommunityItem(id: $id) { errors { message } } }"""
    assert (await c.admin.data(hide, {"id": hidden["id"]}))["hideCommunityItem"]["errors"] == []
    assert (await c.owner.data(withdraw, {"id": withdrawn["id"]}))[
        "withdrawCommunityItem"]["errors"] == []
    for reader, expected in (("owner", set()), ("member", set()), ("anonymous", set()),
                             ("admin", {hidden["id"]})):
        page = (await c.readers[reader].data(PATTERNS, {"first": 5, "search": "gate"}))
        assert {n["id"] for n in page["patterns"]["nodes"]} == expected, reader
        assert page["patterns"]["totalCount"] == len(expected)


async def test_private_items_do_not_reweigh_words_in_others_ranking(c: Community) -> None:
    """A ranking that weighs words by how many rows hold them (FTS5's bm25) would let
    private rows full of one word push another reader's results around; the order here
    comes from each row's own text."""
    for number in range(8):
        await share(c.owner, **pattern_input(f"Filler {number}"))
    more_alpha = await share(c.owner, **pattern_input("alpha alpha alpha beta"))
    more_beta = await share(c.owner, **pattern_input("alpha beta beta"))

    async def order() -> list[str]:
        page = (await c.member.data(PATTERNS, {"first": 5, "search": "alpha beta"}))
        return [node["id"] for node in page["patterns"]["nodes"]]

    assert await order() == [more_alpha["id"], more_beta["id"]]
    for number in range(6):
        await share(c.owner, **pattern_input(f"alpha private {number}",
                                             visibility="PRIVATE"))
    assert await order() == [more_alpha["id"], more_beta["id"]]
