"""STIX 2.1 import and export with TLP 2.0: round trip through stix2-validator, idempotent
re-import, unknown types and custom properties kept, clearance on relationships, and
hostile bundles refused with nothing written."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import GraphQLClient, RunningApp
from threats_kit import EXPORT, IMPORT, SHARE, bundle, relationship, sdo, validator_errors

from arcos.community.threats_models import StixImport, StixObject, Threat
from arcos.community.threats_tlp import MARKING_IDS, Tlp

T0_REPORT = "2026-01-05T10:00:00.000Z"
PATTERN = "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']"


async def principal(app: RunningApp, name: str, *scopes: str) -> GraphQLClient:
    token = await app.issue(name, *scopes)
    return GraphQLClient(app.client(token))


async def data(gql: GraphQLClient, query: str, **variables: Any) -> dict[str, Any]:
    body = await gql(query, variables)
    assert "errors" not in body, body
    return body["data"]


def ids(document: dict[str, Any]) -> set[str]:
    return {obj["id"] for obj in document["objects"]}


async def test_round_trip_validates_and_reimport_is_idempotent(app: RunningApp) -> None:
    alice = await principal(app, "alice", "community:read", "community:write")
    malware = sdo("malware", Tlp.GREEN, name="Emotet", is_family=True)
    indicator = sdo("indicator", Tlp.GREEN, pattern=PATTERN, pattern_type="stix",
                    valid_from=T0_VALID, x_acme_confidence_note={"nested": [1, 2]})
    custom = sdo("x-acme-sensor", Tlp.GREEN, x_reading=42)
    unknown = sdo("grouping-thing", Tlp.CLEAR, name="from a newer spec", weird=[{"a": 1}])
    link = relationship(indicator, "indicates", malware, Tlp.GREEN)
    sent = bundle(malware, indicator, custom, unknown, link)

    first = (await data(alice, IMPORT, bundle=sent))["importStixBundle"]
    assert first["errors"] == [] and (first["imported"], first["known"]) == (5, 0)
    again = (await data(alice, IMPORT, bundle=sent))["importStixBundle"]
    assert (again["imported"], again["known"], again["total"]) == (0, 5, 5)
    assert await StixObject.all().count() == 5
    assert await StixImport.all().count() == 2

    shared = (await data(alice, SHARE, input={
        "title": "Emotet dropper", "kind": "MALWARE", "severity": "HIGH",
        "indicators": [PATTERN], "mitigations": ["Block macros"], "tlp": "GREEN",
        "affectedComponents": [{"package": "pkg:pypi/requests", "versions": ">=2.0,<2.31.0"}],
    }))["shareThreat"]
    assert shared["errors"] == []

    exported = (await data(alice, EXPORT))["stixBundle"]
    assert validator_errors(exported) == []
    by_id = {obj["id"]: obj for obj in exported["objects"]}
    assert by_id[indicator["id"]] == indicator  # custom properties kept exactly
    assert by_id[custom["id"]] == custom and by_id[unknown["id"]] == unknown
    assert by_id[link["id"]] == link
    assert set(MARKING_IDS.values()) <= set(by_id)
    amber = by_id[MARKING_IDS[Tlp.AMBER]]
    assert amber["extensions"]["extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"][
        "tlp_2_0"] == "amber"
    assert by_id[shared["threat"]["stixId"]]["x_arcos_affected_components"] == [
        {"package": "pkg:pypi/requests", "versions": ">=2.0,<2.31.0"}]

    # the exported bundle imports back: everything already known except nothing new
    back = (await data(alice, IMPORT, bundle=exported))["importStixBundle"]
    assert back["errors"] == [] and back["known"] == 5


T0_VALID = "2026-01-05T10:00:00Z"


async def test_clearance_holds_for_objects_and_relationships(app: RunningApp) -> None:
    """Three principals: the importer, a named recipient, and another member."""
    owner = await principal(app, "owner", "community:read", "community:write")
    named = await principal(app, "named", "community:read")
    other = await principal(app, "other", "community:read")
    public_malware = sdo("malware", Tlp.CLEAR, name="Public", is_family=False)
    green_tool = sdo("tool", Tlp.GREEN, name="Green tool")
    red_actor = sdo("threat-actor", Tlp.RED, name="Secret actor")
    strict = sdo("campaign", Tlp.AMBER_STRICT, name="Strict campaign")
    unmarked = sdo("attack-pattern", None, name="Unmarked technique")
    to_red = relationship(red_actor, "uses", public_malware, Tlp.CLEAR)
    to_strict = relationship(strict, "uses", green_tool, Tlp.CLEAR)
    visible_link = relationship(green_tool, "delivers", public_malware, Tlp.CLEAR)
    sent = bundle(public_malware, green_tool, red_actor, strict, unmarked, to_red, to_strict,
                  visible_link)
    done = (await data(owner, IMPORT, bundle=sent, recipients=["named"]))["importStixBundle"]
    assert done["errors"] == []

    seen = {name: ids((await data(gql, EXPORT))["stixBundle"]) for name, gql in
            (("owner", owner), ("named", named), ("other", other))}
    everything = {o["id"] for o in sent["objects"]}
    assert everything <= seen["owner"]
    # named: RED and AMBER (the unmarked one) by name, never AMBER+STRICT nor what points at it
    assert seen["named"] & everything == everything - {strict["id"], to_strict["id"]}
    # another member: CLEAR and GREEN only; no relationship reaches the RED actor
    assert seen["other"] & everything == {public_malware["id"], green_tool["id"],
                                          visible_link["id"]}
    listing = "{ stixObjects(first: 50) { totalCount nodes { id stixId } } }"
    pages = {name: (await data(gql, listing))["stixObjects"] for name, gql in
             (("owner", owner), ("named", named), ("other", other))}
    for name, page in pages.items():
        assert {node["stixId"] for node in page["nodes"]} == seen[name] & everything, name
        assert page["totalCount"] == len(seen[name] & everything), name
    global_ids = {node["stixId"]: node["id"] for node in pages["owner"]["nodes"]}
    node = "query($id: ID!) { node(id: $id) { ... on StixObject { stixId body } } }"
    red = (await data(other, node, id=global_ids[red_actor["id"]]))["node"]
    assert red is None
    assert (await data(named, node, id=global_ids[red_actor["id"]]))["node"]["body"] == \
        red_actor
    # its owner withdraws the public malware: the relationship to it goes too
    withdraw = "mutation($id: ID!) { withdrawCommunityItem(id: $id) { errors { code } } }"
    await data(owner, withdraw, id=global_ids[public_malware["id"]])
    left = ids((await data(other, EXPORT))["stixBundle"])
    assert left & everything == {green_tool["id"]}
    anonymous = GraphQLClient(app.client())
    body = await anonymous(EXPORT)
    assert "errors" in body  # no anonymous read unless the server allows it


async def test_ids_above_clearance_are_cut_from_references(app: RunningApp) -> None:
    """A GREEN report listing a RED object, a GREEN tool created by an AMBER identity, a
    sighting of a RED object: a member sees neither those ids nor objects standing on them."""
    owner = await principal(app, "owner", "community:read", "community:write")
    other = await principal(app, "other", "community:read")
    secret_identity = sdo("identity", Tlp.AMBER, name="Secret source",
                          identity_class="organization")
    red_actor = sdo("threat-actor", Tlp.RED, name="Secret actor")
    tool = sdo("tool", Tlp.GREEN, name="Green tool", created_by_ref=secret_identity["id"])
    report = sdo("report", Tlp.GREEN, name="Mixed report", published=T0_REPORT,
                 object_refs=[tool["id"], red_actor["id"]])
    only_secret = sdo("report", Tlp.GREEN, name="Secret-only report", published=T0_REPORT,
                      object_refs=[red_actor["id"]])
    sighting = sdo("sighting", Tlp.GREEN, sighting_of_ref=red_actor["id"])
    sent = bundle(secret_identity, red_actor, tool, report, only_secret, sighting)
    assert (await data(owner, IMPORT, bundle=sent))["importStixBundle"]["errors"] == []

    exported = (await data(other, EXPORT))["stixBundle"]
    text = json.dumps(exported)
    assert red_actor["id"] not in text and secret_identity["id"] not in text
    by_id = {obj["id"]: obj for obj in exported["objects"]}
    assert by_id[report["id"]]["object_refs"] == [tool["id"]]
    assert "created_by_ref" not in by_id[tool["id"]]
    assert only_secret["id"] not in by_id and sighting["id"] not in by_id
    assert validator_errors(exported) == []
    # the importer, cleared for everything, gets every object as it was sent
    mine = {obj["id"]: obj for obj in (await data(owner, EXPORT))["stixBundle"]["objects"]}
    assert mine[report["id"]] == report and mine[tool["id"]] == tool


HOSTILE: list[tuple[str, Any, str]] = [
    ("not a bundle", {"type": "report"}, "send a STIX 2.1 bundle"),
    ("no id", {"type": "bundle", "objects": [sdo("tool", name="x")]}, "bundle--<uuid>"),
    ("empty", {"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
               "objects": []}, "non-empty list"),
    ("object without id", bundle({"type": "tool", "spec_version": "2.1", "name": "x",
                                  "created": "2026-01-05T10:00:00.000Z"}), "`id` must be"),
    ("bad pattern", bundle(sdo("indicator", pattern="[file:name = ", pattern_type="stix",
                               valid_from="2026-01-05T10:00:00Z")), "`pattern`"),
    ("bad timestamp", bundle(sdo("tool", name="x", modified="yesterday")), "STIX timestamp"),
    ("deep", bundle(sdo("tool", name="x", x_deep=json.loads("[" * 40 + "]" * 40))),
     "nests deeper"),
    ("too many", {"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
                  "objects": [{}] * 5001}, "at most 5000"),
]


@pytest.mark.parametrize(("label", "document", "says"), HOSTILE, ids=[h[0] for h in HOSTILE])
async def test_hostile_bundles_are_refused_and_write_nothing(
    app: RunningApp, label: str, document: Any, says: str
) -> None:
    alice = await principal(app, "alice", "community:read", "community:write")
    valid = sdo("tool", name="kept out")
    if label == "bad pattern":  # a good object beside the bad one is not half-written
        document["objects"].insert(0, valid)
    payload = (await data(alice, IMPORT, bundle=document))["importStixBundle"]
    assert payload["importId"] is None
    assert any(says in error["message"] for error in payload["errors"]), payload["errors"]
    assert await StixObject.all().count() == 0 and await StixImport.all().count() == 0


async def test_rest_import_and_export(app: RunningApp) -> None:
    token = await app.issue("rest", "community:read", "community:write")
    async with app.client(token) as http:
        sent = bundle(sdo("vulnerability", Tlp.GREEN, name="CVE-2026-0001",
                          external_references=[{"source_name": "cve",
                                                "external_id": "CVE-2026-0001"}]))
        answer = await http.post("/api/community/threats/stix", json=sent)
        assert answer.status_code == 201, answer.text
        assert answer.json()["import"]["imported"] == 1
        exported = await http.get("/api/community/threats/stix")
        assert exported.status_code == 200
        assert validator_errors(exported.json()) == []
        assert sent["objects"][0] in exported.json()["objects"]
        for body, headers in ((b"{not json", {"content-type": "application/json"}),
                              (b"[1, 2]", {"content-type": "application/json"}),
                              (json.dumps({"type": "bundle"}).encode(),
                               {"content-type": "application/json"}),
                              (b"x" * 100, {"content-type": "text/plain"})):
            refused = await http.post("/api/community/threats/stix", content=body,
                                      headers=headers)
            assert 400 <= refused.status_code < 500, refused.text
            assert refused.json()["success"] is False
        huge = {"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
                "objects": [sdo("tool", name="x" * 1000, x_pad="y" * 2_000_000)] * 5}
        refused = await http.post("/api/community/threats/stix", json=huge)
        assert 400 <= refused.status_code < 500
    assert await StixObject.all().count() == 1


async def test_share_threat_refuses_bad_patterns_and_components(app: RunningApp) -> None:
    alice = await principal(app, "alice", "community:read", "community:write")
    payload = (await data(alice, SHARE, input={
        "title": "x", "kind": "VULNERABILITY", "severity": "LOW", "tlp": "CLEAR",
        "indicators": [PATTERN, "[file:name = "],
        "affectedComponents": [{"package": "pkg:pypi/requests@2.0", "versions": "*"},
                               {"package": "pkg:pypi/ok", "versions": "about 2"}],
        "recipients": ["bob"],
    }))["shareThreat"]
    fields = {error["field"]: error["message"] for error in payload["errors"]}
    assert payload["threat"] is None
    assert "indicator 2" in fields["indicators.1"]
    assert "versions" in fields["affectedComponents.0"]
    assert "comparison" in fields["affectedComponents.1"]
    assert "names no recipients" in fields["recipients"]
    assert await Threat.all().count() == 0


async def test_rest_share_and_list_with_permission(app: RunningApp) -> None:
    token = await app.issue("sharer", "community:read", "community:write")
    reader = await app.issue("reader", "community:read")
    async with app.client(token) as http, app.client(reader) as other:
        body = {"threat": {"title": "Log4Shell", "kind": "vulnerability", "severity": "critical",
                           "affected_components": [{
                               "package": "cpe:2.3:a:apache:log4j:*:*:*:*:*:*:*:*",
                               "versions": ">=2.0,<2.15.0"}]},
                "permission": "community"}
        answer = await http.post("/api/community/threats/share", json=body)
        assert answer.status_code == 201, answer.text
        assert answer.json()["threat"]["tlp"] == "GREEN" and answer.json()["id"]
        clash = await http.post("/api/community/threats/share", json={
            **body, "threat": {**body["threat"], "tlp": "red"}})
        assert clash.status_code == 400 and "contradicts" in clash.text
        listed = await other.get("/api/community/threats/list")
        assert listed.status_code == 200 and listed.json()["count"] == 1
        private = await http.post("/api/community/threats/share", json={
            "threat": {**body["threat"], "tlp": "amber+strict"}})
        assert private.status_code == 201, private.text
        assert (await other.get("/api/community/threats/list")).json()["count"] == 1
        assert (await http.get("/api/community/threats/list")).json()["count"] == 2


async def test_relationships_to_shared_threats_follow_the_threats_clearance(
    app: RunningApp,
) -> None:
    owner = await principal(app, "owner", "community:read", "community:write")
    other = await principal(app, "other", "community:read")

    async def share(tlp: str) -> str:
        payload = (await data(owner, SHARE, input={
            "title": f"{tlp} tool", "kind": "TOOL", "severity": "LOW", "tlp": tlp}))
        return payload["shareThreat"]["threat"]["stixId"]

    green, strict = await share("GREEN"), await share("AMBER_STRICT")
    actor = sdo("threat-actor", Tlp.CLEAR, name="Actor")
    uses_green = sdo("relationship", Tlp.CLEAR, relationship_type="uses",
                     source_ref=actor["id"], target_ref=green)
    uses_strict = sdo("relationship", Tlp.CLEAR, relationship_type="uses",
                      source_ref=actor["id"], target_ref=strict)
    sighted = sdo("sighting", Tlp.CLEAR, sighting_of_ref=strict)
    done = (await data(owner, IMPORT, bundle=bundle(actor, uses_green, uses_strict, sighted)))
    assert done["importStixBundle"]["errors"] == []
    mine = ids((await data(owner, EXPORT))["stixBundle"])
    theirs = ids((await data(other, EXPORT))["stixBundle"])
    assert {uses_green["id"], uses_strict["id"], sighted["id"], strict} <= mine
    assert uses_green["id"] in theirs and green in theirs
    assert not {uses_strict["id"], sighted["id"], strict} & theirs
