"""The community's generic operations across kinds: `communityStats` (GraphQL and
`GET /api/community/stats`), withdrawing and hiding by global id, and the visibility rule
as a SQL filter (`readable`)."""

from __future__ import annotations

from typing import Any

from library_kit import Community, add, community, pattern_input, practice_input, share
from threats_kit import SHARE as SHARE_THREAT

from arcos.auth.caller import Caller
from arcos.auth.scopes import ADMIN
from arcos.community.library_models import QualityPattern
from arcos.community.scopes import COMMUNITY_READ
from arcos.community.sharing import readable
from arcos.settings import Settings

STATS = """{ communityStats { kinds { kind public community private total } contributors
  votes imports tallies { name count } } }"""
WITHDRAW = """mutation($id: ID!) { withdrawCommunityItem(id: $id) {
  item { kind visibility withdrawn hidden } errors { field message code } } }"""
HIDE = """mutation($id: ID!, $hidden: Boolean!, $reason: String) {
  hideCommunityItem(id: $id, hidden: $hidden, reason: $reason) {
  item { kind hidden hiddenReason } errors { field message code } } }"""


def _kinds(stats: dict[str, Any]) -> dict[str, tuple[int, int, int]]:
    return {k["kind"]: (k["public"], k["community"], k["private"])
            for k in stats["kinds"] if k["total"]}


async def _stats(who: Any) -> dict[str, Any]:
    return (await who.data(STATS))["communityStats"]


async def _seed(c: Community) -> dict[str, str]:
    """alice shares a public pattern, a community practice, a private pattern and an AMBER
    threat naming bob; bob upvotes the practice."""
    ids = {
        "public": (await share(c.owner, **pattern_input("Public gate")))["id"],
        "private": (await share(c.owner, **pattern_input("Private gate",
                                                         visibility="PRIVATE")))["id"],
        "practice": (await add(c.owner, **practice_input("Pin actions",
                                                        visibility="COMMUNITY")))["id"],
    }
    threat = await c.owner.data(SHARE_THREAT, {"input": {
        "title": "Typosquat", "kind": "MALWARE", "severity": "HIGH", "tlp": "AMBER",
        "recipients": ["bob"]}})
    assert threat["shareThreat"]["errors"] == [], threat
    ids["threat"] = threat["shareThreat"]["threat"]["id"]
    vote = await c.member.data("mutation($id: String!) { upvotePractice(id: $id) { changed } }",
                               {"id": ids["practice"]})
    assert vote["upvotePractice"]["changed"]
    return ids


async def test_stats_count_what_each_reader_may_read(settings: Settings) -> None:
    async with community(settings) as c:
        ids = await _seed(c)
        owner, member, anonymous = (await _stats(c.owner), await _stats(c.member),
                                    await _stats(c.anonymous))
        assert _kinds(owner) == {"pattern": (1, 0, 1), "practice": (0, 1, 0),
                                 "threat": (0, 0, 1)}
        # bob is a named recipient of the AMBER threat: he reads it, so it counts for him
        assert _kinds(member) == {"pattern": (1, 0, 0), "practice": (0, 1, 0),
                                  "threat": (0, 0, 1)}
        assert _kinds(anonymous) == {"pattern": (1, 0, 0)}
        assert (owner["votes"], member["votes"], anonymous["votes"]) == (1, 1, 0)
        assert (owner["contributors"], anonymous["contributors"]) == (1, 1)
        rest = await c.member.http.get("/api/community/stats")
        assert rest.status_code == 200
        body = rest.json()
        assert body["success"] is True
        assert _kinds(body["stats"]) == _kinds(member)

        # withdrawn: gone for everyone; hidden: admins still count it
        done = await c.owner.data(WITHDRAW, {"id": ids["public"]})
        assert done["withdrawCommunityItem"]["item"] == {
            "kind": "pattern", "visibility": "PUBLIC", "withdrawn": True, "hidden": False}
        assert _kinds(await _stats(c.anonymous)) == {}
        hidden = await c.admin.data(HIDE, {"id": ids["practice"], "hidden": True,
                                           "reason": "spam"})
        assert hidden["hideCommunityItem"]["item"] == {
            "kind": "practice", "hidden": True, "hiddenReason": "spam"}
        assert "practice" not in _kinds(await _stats(c.member))
        assert _kinds(await _stats(c.admin))["practice"] == (0, 1, 0)
        assert (await _stats(c.member))["votes"] == 0  # votes on hidden items are not shown
        # bob shares only anonymised: his name is shown to nobody but admins, so he is
        # counted for nobody else either
        await share(c.member, **pattern_input("Quiet gate", anonymize=True))
        assert (await _stats(c.owner))["contributors"] == 1
        assert (await _stats(c.admin))["contributors"] == 2
        assert _kinds(await _stats(c.owner))["pattern"] == (1, 0, 1)  # the item still counts


async def test_only_owners_withdraw_and_only_admins_hide(settings: Settings) -> None:
    async with community(settings) as c:
        ids = await _seed(c)
        refused = (await c.member.data(WITHDRAW, {"id": ids["practice"]}))
        assert refused["withdrawCommunityItem"]["errors"][0]["code"] == "INVALID"
        assert "owner" in refused["withdrawCommunityItem"]["errors"][0]["message"]
        # a private item of someone else is as missing as one that never existed
        unseen = (await c.member.data(WITHDRAW, {"id": ids["private"]}))
        assert unseen["withdrawCommunityItem"]["errors"][0]["code"] == "NOT_FOUND"
        evidence_id = "RXZpZGVuY2U6MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw"
        other_type = (await c.owner.data(WITHDRAW, {"id": evidence_id}))
        assert other_type["withdrawCommunityItem"]["errors"][0]["code"] == "NOT_FOUND"
        not_admin = await c.owner.gql(HIDE, {"id": ids["public"], "hidden": True})
        assert not_admin["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        too_long = await c.admin.gql(HIDE, {"id": ids["public"], "hidden": True,
                                            "reason": "x" * 2001})
        assert too_long["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        row = await QualityPattern.get(name="Public gate")
        assert not row.hidden and not row.withdrawn


async def test_readable_is_the_same_rule_in_sql(settings: Settings) -> None:
    async with community(settings) as c:
        await _seed(c)
        callers = {
            "alice": Caller("alice", frozenset({COMMUNITY_READ}), True),
            "bob": Caller("bob", frozenset({COMMUNITY_READ}), True),
            "anonymous": Caller.anonymous(allow_read=True),
            "nobody": Caller.anonymous(allow_read=False),
            "root": Caller("root", frozenset({ADMIN}), True),
        }
        seen = {name: sorted(await QualityPattern.filter(readable(caller))
                             .values_list("name", flat=True))
                for name, caller in callers.items()}
        assert seen == {"alice": ["Private gate", "Public gate"], "bob": ["Public gate"],
                        "anonymous": ["Public gate"], "nobody": [],
                        "root": ["Private gate", "Public gate"]}
