"""Who reads a threat: TLP 2.0 levels by principals (the sharer, a named recipient, another
member, an anonymous reader) over every read path — the list, its totalCount, node(id),
the STIX export and communityStats — plus withdrawal, hiding and anonymised sharing."""

from __future__ import annotations

from typing import Any

from conftest import GraphQLClient, running_app
from threats_kit import SHARE

from arcos.settings import Settings

LEVELS = ("CLEAR", "GREEN", "AMBER", "AMBER_STRICT", "RED")
#: Which levels each principal reads: the recipient is named on AMBER and RED (AMBER+STRICT
#: names nobody), the anonymous reader (ARCOS_ANONYMOUS_READ on) reads CLEAR only.
EXPECTED = {
    "owner": set(LEVELS),
    "named": {"CLEAR", "GREEN", "AMBER", "RED"},
    "other": {"CLEAR", "GREEN"},
    "anonymous": {"CLEAR"},
}
READ = """query { threats(first: 50) { totalCount nodes { id title tlp } }
  stixBundle communityStats { kinds { kind total } } }"""
NODE = "query($id: ID!) { node(id: $id) { ... on Threat { title } } }"


async def share(gql: GraphQLClient, level: str, **extra: Any) -> dict[str, Any]:
    body = await gql(SHARE, {"input": {
        "title": f"threat {level}", "kind": "TOOL", "severity": "LOW", "tlp": level,
        "recipients": ["named"] if level in ("AMBER", "RED") else [], **extra}})
    payload = body["data"]["shareThreat"]
    assert payload["errors"] == [], payload
    return payload["threat"]


async def test_tlp_matrix_over_every_read_path(settings: Settings) -> None:
    async with running_app(settings.replace(anonymous_read=True)) as app:
        owner = GraphQLClient(app.client(await app.issue("owner", "community:read",
                                                         "community:write")))
        readers = {
            "owner": owner,
            "named": GraphQLClient(app.client(await app.issue("named", "community:read"))),
            "other": GraphQLClient(app.client(await app.issue("other", "community:read"))),
            "anonymous": GraphQLClient(app.client()),
        }
        shared = {level: await share(owner, level) for level in LEVELS}
        for name, gql in readers.items():
            body = await gql(READ)
            assert "errors" not in body, (name, body)
            page = body["data"]["threats"]
            titles = {node["tlp"] for node in page["nodes"]}
            assert titles == EXPECTED[name], name
            assert page["totalCount"] == len(EXPECTED[name]), name
            exported = {obj["id"] for obj in body["data"]["stixBundle"]["objects"]}
            assert {shared[level]["stixId"] for level in EXPECTED[name]} <= exported, name
            hidden = {shared[level]["stixId"] for level in set(LEVELS) - EXPECTED[name]}
            assert not hidden & exported, name
            stats = {k["kind"]: k["total"] for k in body["data"]["communityStats"]["kinds"]}
            # communityStats counts threats as the list reads them: named recipients too
            assert stats["threat"] == len(EXPECTED[name]), name
            for level in LEVELS:
                node = (await gql(NODE, {"id": shared[level]["id"]}))["data"]["node"]
                assert (node is not None) == (level in EXPECTED[name]), (name, level)
        recipients = (await owner("{ threats(tlp: RED) { nodes { recipients } } }"))
        assert recipients["data"]["threats"]["nodes"][0]["recipients"] == ["named"]
        seen_by_named = await readers["named"]("{ threats(tlp: RED) { nodes { recipients } } }")
        assert seen_by_named["data"]["threats"]["nodes"][0]["recipients"] == []


async def test_withdrawn_and_hidden_threats_leave_every_read(settings: Settings) -> None:
    async with running_app(settings) as app:
        owner = GraphQLClient(app.client(await app.issue("owner", "community:read",
                                                         "community:write")))
        other = GraphQLClient(app.client(await app.issue("other", "community:read")))
        admin = GraphQLClient(app.client(app.admin_token))
        gone = await share(owner, "CLEAR")
        hidden = await share(owner, "GREEN")
        await owner("mutation($id: ID!) { withdrawCommunityItem(id: $id) { errors { code } } }",
                    {"id": gone["id"]})
        await admin("mutation($id: ID!) { hideCommunityItem(id: $id, reason: \"spam\") "
                    "{ errors { code } } }", {"id": hidden["id"]})
        for gql, expected in ((other, 0), (owner, 0), (admin, 1)):
            body = await gql("{ threats { totalCount } stixBundle }")
            assert body["data"]["threats"]["totalCount"] == expected
            exported = {obj["id"] for obj in body["data"]["stixBundle"]["objects"]}
            assert gone["stixId"] not in exported
            assert (hidden["stixId"] in exported) == bool(expected)


async def test_anonymised_threat_is_scrubbed_and_authorless(settings: Settings) -> None:
    async with running_app(settings) as app:
        owner = GraphQLClient(app.client(await app.issue("owner", "community:read",
                                                         "community:write")))
        other = GraphQLClient(app.client(await app.issue("other", "community:read")))
        admin = GraphQLClient(app.client(app.admin_token))
        await share(owner, "GREEN", anonymize=True,
                    description="Mail soc@acme.example or see https://intranet.acme.example/x",
                    mitigations=["Ask @alice on 10.1.2.3"])
        query = "{ threats { nodes { author { name } description mitigations } } }"
        seen = (await other(query))["data"]["threats"]["nodes"][0]
        assert seen["author"] is None
        assert "soc@acme.example" not in seen["description"]
        assert "[redacted:email]" in seen["description"]
        assert "intranet.acme.example" not in seen["description"]
        assert "10.1.2.3" not in seen["mitigations"][0]
        assert (await admin(query))["data"]["threats"]["nodes"][0]["author"] == {"name": "owner"}
