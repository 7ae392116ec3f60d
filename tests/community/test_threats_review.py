"""Regressions from the review of threat intelligence: ids above clearance cut from every
body a reader gets (nested references too), imports counted as readers see them, each
importer keeping its own copy, overlapping imports racing safely, unstorable JSON and
over-long scrubbed text refused, and the bounds on pattern parsing and export size."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from conftest import GraphQLClient, RunningApp
from threats_kit import EXPORT, IMPORT, SHARE, bundle, relationship, sdo, validator_errors

from arcos.auth.caller import Caller
from arcos.community import threat_matching
from arcos.community.scopes import COMMUNITY_READ
from arcos.community.stix_bundle import MAX_PATTERN_CHARACTERS
from arcos.community.stix_export import export_bundle
from arcos.community.stix_refs import cut, references
from arcos.community.threats_models import StixImport, StixObject, Threat
from arcos.community.threats_tlp import Tlp
from arcos.evidence.models import Project
from arcos.intake.models import SbomComponent

EXTENSION = "extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e"
LISTING = "{ stixObjects(first: 50) { nodes { id stixId body } } }"
NODE = "query($id: ID!) { node(id: $id) { ... on StixObject { stixId body } } }"
STATS = "{ communityStats { imports } }"


async def principal(app: RunningApp, name: str, *scopes: str) -> GraphQLClient:
    return GraphQLClient(app.client(await app.issue(name, *scopes)))


async def data(gql: GraphQLClient, query: str, **variables: Any) -> dict[str, Any]:
    body = await gql(query, variables)
    assert "errors" not in body, body
    return body["data"]


def test_references_are_found_and_cut_at_any_depth() -> None:
    hidden = {"threat-actor--1", "marking-definition--2"}
    obj = {"id": "tool--9", "type": "tool",
           "x_context": {"victim_ref": "threat-actor--1", "source_ref": "threat-actor--1",
                         "keep_ref": "identity--3"},
           "granular_markings": [{"marking_ref": "marking-definition--2",
                                  "selectors": ["name"]},
                                 {"marking_ref": "marking-definition--4",
                                  "selectors": ["name"]}],
           "extensions": {EXTENSION: {"extension_type": "property-extension",
                                      "actor_refs": ["threat-actor--1", "identity--3"]}}}
    assert references([obj]) == {"threat-actor--1", "marking-definition--2",
                                 "identity--3", "marking-definition--4"}
    assert cut(obj, hidden) == {
        "id": "tool--9", "type": "tool", "x_context": {"keep_ref": "identity--3"},
        "granular_markings": [{"marking_ref": "marking-definition--4", "selectors": ["name"]}],
        "extensions": {EXTENSION: {"extension_type": "property-extension",
                                   "actor_refs": ["identity--3"]}}}
    # only the top level's required references drop the object whole
    assert cut({"id": "relationship--1", "source_ref": "threat-actor--1"}, hidden) is None
    assert cut({"id": "report--1", "object_refs": ["threat-actor--1"]}, hidden) is None


async def test_bodies_read_by_list_and_node_name_no_hidden_id(app: RunningApp) -> None:
    owner = await principal(app, "owner", "community:read", "community:write")
    other = await principal(app, "other", "community:read")
    actor = sdo("threat-actor", Tlp.RED, name="Secret actor")
    source = sdo("identity", Tlp.AMBER, name="Secret source", identity_class="organization")
    tool = sdo("tool", Tlp.GREEN, name="Green tool", created_by_ref=source["id"],
               x_context={"victim_ref": actor["id"], "note": "kept"},
               extensions={EXTENSION: {"extension_type": "property-extension",
                                       "operator_ref": actor["id"]}})
    report = sdo("report", Tlp.GREEN, name="Mixed", published=tool["created"],
                 object_refs=[tool["id"], actor["id"]])
    done = (await data(owner, IMPORT, bundle=bundle(actor, source, tool, report)))
    assert done["importStixBundle"]["errors"] == []

    nodes = (await data(other, LISTING))["stixObjects"]["nodes"]
    assert {n["stixId"] for n in nodes} == {tool["id"], report["id"]}
    text = json.dumps(nodes)
    assert actor["id"] not in text and source["id"] not in text
    bodies = {n["stixId"]: n["body"] for n in nodes}
    assert bodies[tool["id"]]["x_context"] == {"note": "kept"}
    assert bodies[tool["id"]]["extensions"][EXTENSION] == {"extension_type":
                                                           "property-extension"}
    assert bodies[report["id"]]["object_refs"] == [tool["id"]]
    by_node = (await data(other, NODE, id=next(n["id"] for n in nodes
                                              if n["stixId"] == tool["id"])))["node"]
    assert by_node["body"] == bodies[tool["id"]]
    exported = (await data(other, EXPORT))["stixBundle"]
    assert actor["id"] not in json.dumps(exported) and validator_errors(exported) == []
    # the importer, cleared for everything, reads every body as sent
    mine = {n["stixId"]: n["body"] for n in (await data(owner, LISTING))["stixObjects"]["nodes"]}
    assert mine[tool["id"]] == tool and mine[report["id"]] == report


async def test_imports_count_only_what_the_reader_lists(app: RunningApp) -> None:
    owner = await principal(app, "owner", "community:read", "community:write")
    other = await principal(app, "other", "community:read")
    actor = sdo("threat-actor", Tlp.RED, name="Secret actor")
    malware = sdo("malware", Tlp.CLEAR, name="Public", is_family=False)
    assert (await data(owner, IMPORT, bundle=bundle(actor, malware)))[
        "importStixBundle"]["errors"] == []
    link = relationship(actor, "uses", malware, Tlp.CLEAR)  # readable row, hidden end
    assert (await data(owner, IMPORT, bundle=bundle(link)))["importStixBundle"]["errors"] == []
    assert (await data(other, STATS))["communityStats"]["imports"] == 1
    assert (await data(owner, STATS))["communityStats"]["imports"] == 2


async def test_each_importer_keeps_its_own_copy(app: RunningApp) -> None:
    alice = await principal(app, "alice", "community:read", "community:write")
    bob = await principal(app, "bob", "community:read", "community:write")
    reader = await principal(app, "reader", "community:read")
    private = sdo("tool", Tlp.AMBER_STRICT, name="Private tool")
    shared = sdo("malware", Tlp.GREEN, name="Shared", is_family=True)
    sent = bundle(private, shared)
    first = (await data(alice, IMPORT, bundle=sent))["importStixBundle"]
    assert (first["imported"], first["known"]) == (2, 0)
    # bob learns nothing of alice's private copy, and keeps his own
    second = (await data(bob, IMPORT, bundle=sent))["importStixBundle"]
    assert (second["imported"], second["known"]) == (2, 0)
    again = (await data(bob, IMPORT, bundle=sent))["importStixBundle"]
    assert (again["imported"], again["known"]) == (0, 2)
    assert await StixObject.filter(stix_id=private["id"]).count() == 2
    bobs = (await data(bob, LISTING))["stixObjects"]["nodes"]
    # his own two rows and alice's GREEN copy; never alice's AMBER+STRICT one
    assert sorted(n["stixId"] for n in bobs) == sorted([private["id"], shared["id"],
                                                        shared["id"]])
    # a reader who may read both copies of an object gets it once in a bundle
    exported = (await data(reader, EXPORT))["stixBundle"]
    assert [o["id"] for o in exported["objects"]].count(shared["id"]) == 1
    assert validator_errors(exported) == []


async def test_overlapping_imports_by_one_principal_all_succeed(app: RunningApp) -> None:
    """Eight imports at once, each holding the same forty objects (in another order) and
    five of its own; five rounds, as the overlap in time is up to the scheduler."""
    alice = await principal(app, "alice", "community:read", "community:write")
    for round_ in range(5):
        shared = [sdo("tool", Tlp.GREEN, name=f"tool {i}") for i in range(40)]
        own = [[sdo("tool", Tlp.GREEN, name=f"own {i}") for _ in range(5)] for i in range(8)]
        bundles = [bundle(*shared[i * 5:], *own[i], *shared[:i * 5]) for i in range(8)]
        answers = await asyncio.gather(*(alice(IMPORT, {"bundle": b}) for b in bundles))
        for answer in answers:
            assert "errors" not in answer, answer
            assert answer["data"]["importStixBundle"]["errors"] == [], (round_, answer)
        assert sum(a["data"]["importStixBundle"]["imported"] for a in answers) == 80
        assert await StixObject.all().count() == 80 * (round_ + 1)
    assert await StixImport.all().count() == 40


RAW_BUNDLE = ('{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", '
              '"objects": [{"type": "tool", "spec_version": "2.1", '
              '"id": "tool--0b9a5c29-1b6c-4d3e-9f4b-0c7b0d2b6a11", '
              '"created": "2026-01-05T10:00:00.000Z", "modified": "2026-01-05T10:00:00.000Z", '
              '"name": "x", %s}]}')
UNSTORABLE = {"nul": '"x_note": "a\\u0000b"', "surrogate key": '"x_\\ud800": 1',
              "infinite": '"x_score": 1e400'}


async def test_unstorable_bundles_are_refused_naming_the_object(app: RunningApp) -> None:
    token = await app.issue("alice", "community:read", "community:write")
    async with app.client(token) as http:
        for label, extra in UNSTORABLE.items():
            text = RAW_BUNDLE % extra
            answer = await http.post("/api/community/threats/stix", content=text.encode(),
                                     headers={"content-type": "application/json"})
            assert 400 <= answer.status_code < 500, (label, answer.text)
            assert "tool--0b9a5c29" in answer.text, (label, answer.text)
            query = json.dumps({"query": IMPORT})[:-1] + ', "variables": {"bundle": ' + \
                text + "}}"
            graphql = await http.post("/graphql", content=query.encode(),
                                      headers={"content-type": "application/json"})
            assert graphql.status_code == 200, (label, graphql.text)
            errors = graphql.json()["data"]["importStixBundle"]["errors"]
            assert errors and "tool--0b9a5c29" in errors[0]["message"], (label, errors)
        exported = await http.get("/api/community/threats/stix")
        assert exported.status_code == 200
    assert await StixObject.all().count() == 0


async def test_unstorable_share_threat_fields_are_refused(app: RunningApp) -> None:
    token = await app.issue("alice", "community:read", "community:write")
    base = ('{"title": "T", "kind": "TOOL", "severity": "LOW", "tlp": "CLEAR", %s}')
    cases = {"title": '"title": "a\\u0000b"', "description": '"description": "\\ud800"',
             "affectedComponents": '"affectedComponents": [{"package": "pkg:pypi/a\\u0000"}]',
             "mitigations": '"mitigations": ["\\udfff"]'}
    async with app.client(token) as http:
        for field, extra in cases.items():
            if field == "title":
                extra_input = base.replace('"title": "T", ', "") % extra
            else:
                extra_input = base % extra
            body = json.dumps({"query": SHARE})[:-1] + ', "variables": {"input": ' + \
                extra_input + "}}"
            answer = await http.post("/graphql", content=body.encode(),
                                     headers={"content-type": "application/json"})
            assert answer.status_code == 200, (field, answer.text)
            errors = answer.json()["data"]["shareThreat"]["errors"]
            assert [e["field"] for e in errors] == [field], (field, errors)
    assert await Threat.all().count() == 0


async def test_scrubbed_text_too_long_is_refused(app: RunningApp) -> None:
    alice = await principal(app, "alice", "community:read", "community:write")
    payload = (await data(alice, SHARE, input={
        "title": "a.io " * 40, "kind": "TOOL", "severity": "LOW", "tlp": "CLEAR",
        "description": "see b.io " * 2_000, "anonymize": True}))["shareThreat"]
    assert payload["threat"] is None
    fields = {e["field"]: e for e in payload["errors"]}
    assert set(fields) == {"title", "description"}
    assert "scrubbed" in fields["title"]["message"] and fields["title"]["code"] == "TOO_LARGE"
    assert await Threat.all().count() == 0
    plain = (await data(alice, SHARE, input={
        "title": "a.io " * 40, "kind": "TOOL", "severity": "LOW", "tlp": "CLEAR"}))
    assert plain["shareThreat"]["errors"] == []


async def test_pattern_characters_per_bundle_are_bounded(app: RunningApp) -> None:
    alice = await principal(app, "alice", "community:read", "community:write")
    value = "a" * 3_900
    pattern = f"[file:name = '{value}']"
    count = MAX_PATTERN_CHARACTERS // len(pattern) + 1
    indicators = [sdo("indicator", pattern=pattern, pattern_type="stix",
                      valid_from="2026-01-05T10:00:00Z") for _ in range(count)]
    payload = (await data(alice, IMPORT, bundle=bundle(*indicators)))["importStixBundle"]
    assert payload["importId"] is None
    assert f"at most {MAX_PATTERN_CHARACTERS}" in payload["errors"][0]["message"]
    assert await StixObject.all().count() == 0


async def test_export_stops_at_its_byte_budget(app: RunningApp) -> None:
    alice = await principal(app, "alice", "community:read", "community:write")
    tools = [sdo("tool", Tlp.CLEAR, name=f"tool {i}", x_pad="p" * 1_000) for i in range(4)]
    assert (await data(alice, IMPORT, bundle=bundle(*tools)))["importStixBundle"][
        "errors"] == []
    caller = Caller("alice", frozenset({COMMUNITY_READ}), True)
    size = len(json.dumps(tools[0], ensure_ascii=False))
    exported = await export_bundle(caller, budget=2 * size + size // 2)
    held = [o["id"] for o in exported["objects"] if o["type"] == "tool"]
    assert held == [tools[0]["id"], tools[1]["id"]]
    assert validator_errors(exported) == []


async def test_a_new_sbom_finds_older_threats_through_the_component_index(
    app: RunningApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Candidates come from the index by package key: newer threats about other packages
    do not push an older matching one past the cap."""
    alice = await principal(app, "alice", "community:read", "community:write")

    async def share(package: str) -> None:
        payload = (await data(alice, SHARE, input={
            "title": package, "kind": "VULNERABILITY", "severity": "HIGH", "tlp": "GREEN",
            "affectedComponents": [{"package": package, "versions": "<2.0"}]}))
        assert payload["shareThreat"]["errors"] == []

    await share("pkg:pypi/requests")
    for index in range(4):
        await share(f"pkg:pypi/other{index}")
    monkeypatch.setattr(threat_matching, "MAX_THREATS_PER_SBOM", 2)
    project = await Project.create(slug="github.com/acme/app")
    evidence = uuid.uuid4()
    await SbomComponent.bulk_create([
        SbomComponent(project_id=project.id, evidence_uid=evidence, name="requests",
                      name_key="requests", version="1.5", purl="pkg:pypi/requests@1.5",
                      package="pypi/requests"),
        SbomComponent(project_id=project.id, evidence_uid=evidence, name="idna",
                      name_key="idna", version="3.0", purl="pkg:pypi/idna@3.0",
                      package="pypi/idna")])
    caller = Caller("bob", frozenset({COMMUNITY_READ}), True)
    found = await threat_matching.threats_matching_sbom(evidence, caller)
    assert [(threat.title, [m.component for m in matches]) for threat, matches in found] == [
        ("pkg:pypi/requests", ["requests"])]


async def test_a_bundles_own_tlp_marking_definitions_are_honoured(app: RunningApp) -> None:
    owner = await principal(app, "owner", "community:read", "community:write")
    other = await principal(app, "other", "community:read")
    green = {"type": "marking-definition", "spec_version": "2.1",
             "id": "marking-definition--3a1e4c1a-7d0b-4c55-9a7b-2f8e0f7c1d21",
             "created": "2026-01-05T10:00:00.000Z", "name": "TLP:GREEN (local copy)",
             "extensions": {"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
                 "extension_type": "property-extension", "tlp_2_0": "green"}}}
    white = {"type": "marking-definition", "spec_version": "2.1",
             "id": "marking-definition--8c7c2c4e-1f0e-4b8e-9d9e-5b8d2b3c4a10",
             "created": "2026-01-05T10:00:00.000Z", "definition_type": "tlp",
             "definition": {"tlp": "white"}}
    by_green = sdo("tool", None, name="Green by local marking",
                   object_marking_refs=[green["id"]])
    by_white = sdo("tool", None, name="Clear by TLP 1.0 style",
                   object_marking_refs=[white["id"]])
    unmarked = sdo("tool", None, name="Unmarked")
    done = (await data(owner, IMPORT, bundle=bundle(green, white, by_green, by_white,
                                                    unmarked)))["importStixBundle"]
    assert done["errors"] == []
    levels = dict(await StixObject.filter(stix_type="tool").values_list("stix_id", "tlp"))
    assert levels == {by_green["id"]: Tlp.GREEN, by_white["id"]: Tlp.CLEAR,
                      unmarked["id"]: Tlp.AMBER}
    seen = {n["stixId"] for n in (await data(other, LISTING))["stixObjects"]["nodes"]}
    assert {by_green["id"], by_white["id"]} <= seen and unmarked["id"] not in seen
