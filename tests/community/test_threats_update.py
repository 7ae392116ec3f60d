"""updateThreat: the owner (or an admin) edits a shared threat; fields left out stay, the
TLP clearance and named recipients take effect at once, the component index follows the
components, an anonymised threat's new text is scrubbed, exports see a newer STIX version,
and refused input (or a caller who may not change it) writes nothing."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from conftest import GraphQLClient, RunningApp
from threats_kit import EXPORT, SHARE

from arcos.auth.caller import Caller
from arcos.community import threat_matching
from arcos.community.scopes import COMMUNITY_READ
from arcos.community.threats_models import Threat, ThreatComponent, ThreatRecipient
from arcos.evidence.models import Project
from arcos.intake.models import SbomComponent
from arcos.store.outbox import OutboxEvent

UPDATE = """mutation($id: String!, $input: UpdateThreatInput!) {
  updateThreat(id: $id, input: $input) {
    threat { id title kind severity description indicators mitigations tlp visibility
             anonymized stixId recipients author { name } updatedAt
             affectedComponents { package versions } }
    errors { field message code } } }"""
READ = "{ threats(first: 50) { totalCount nodes { id title } } }"
INDICATOR = "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']"


class Principals:
    def __init__(self, app: RunningApp) -> None:
        self.app = app

    async def start(self) -> Principals:
        issue = self.app.issue
        self.owner = GraphQLClient(self.app.client(await issue(
            "owner", "community:read", "community:write")))
        self.other = GraphQLClient(self.app.client(await issue(
            "other", "community:read", "community:write")))
        self.named = GraphQLClient(self.app.client(await issue(
            "named", "community:read", "community:write")))
        self.admin = GraphQLClient(self.app.client(self.app.admin_token))
        return self


@pytest.fixture
async def who(app: RunningApp) -> Principals:
    return await Principals(app).start()


async def share(gql: GraphQLClient, **changes: Any) -> dict[str, Any]:
    body = await gql(SHARE, {"input": {
        "title": "Loader drops a miner", "kind": "MALWARE", "severity": "MEDIUM",
        "description": "Seen in CI runners.", "indicators": [INDICATOR],
        "mitigations": ["Pin the loader"], "tlp": "GREEN",
        "affectedComponents": [{"package": "pkg:pypi/requests", "versions": "<2.0"}],
        **changes}})
    payload = body["data"]["shareThreat"]
    assert payload["errors"] == [], payload
    return payload["threat"]


async def update(gql: GraphQLClient, threat_id: str, **changes: Any) -> dict[str, Any]:
    body = await gql(UPDATE, {"id": threat_id, "input": changes})
    assert "errors" not in body, body
    return body["data"]["updateThreat"]


async def titles(gql: GraphQLClient) -> set[str]:
    return {node["title"] for node in (await gql(READ))["data"]["threats"]["nodes"]}


async def snapshot(threat_id: str) -> tuple[Any, ...]:
    """Everything an edit may write: the row, its recipients, its component index."""
    uid = uuid.UUID(base64.b64decode(threat_id).decode().split(":", 1)[1])
    row = await Threat.get(uid=uid)
    columns = {name: getattr(row, name) for name in row._meta.fields_map
               if name not in ("components",)}
    recipients = sorted(await ThreatRecipient.filter(grant=row.grant)
                        .values_list("principal", flat=True))
    keys = sorted(await ThreatComponent.filter(threat_id=row.id).values_list("key", flat=True))
    return columns, recipients, keys


def exported(bundle: dict[str, Any], stix_id: str) -> dict[str, Any]:
    return next(obj for obj in bundle["objects"] if obj["id"] == stix_id)


async def test_owner_edits_and_reads_back_a_newer_stix_version(who: Principals) -> None:
    shared = await share(who.owner)
    before = exported((await who.other(EXPORT))["data"]["stixBundle"], shared["stixId"])
    edited = await update(who.owner, shared["id"], title="Loader drops a coin miner",
                          severity="CRITICAL", description="Seen in CI runners and laptops.",
                          indicators=[], mitigations=["Pin the loader", "Rotate CI secrets"])
    assert edited["errors"] == []
    threat = edited["threat"]
    assert (threat["title"], threat["severity"], threat["description"]) == (
        "Loader drops a coin miner", "CRITICAL", "Seen in CI runners and laptops.")
    assert threat["indicators"] == [] and threat["mitigations"] == [
        "Pin the loader", "Rotate CI secrets"]
    # the STIX identity stays (kind and owner are not editable), its version moves on
    assert (threat["id"], threat["stixId"], threat["kind"]) == (
        shared["id"], shared["stixId"], "MALWARE")
    assert threat["author"] == {"name": "owner"}
    after = exported((await who.other(EXPORT))["data"]["stixBundle"], shared["stixId"])
    assert after["name"] == "Loader drops a coin miner"
    assert after["created"] == before["created"] and after["modified"] > before["modified"]
    assert await titles(who.other) == {"Loader drops a coin miner"}


async def test_partial_edit_keeps_every_other_field(who: Principals) -> None:
    shared = await share(who.owner, tlp="AMBER", recipients=["named"])
    columns, recipients, keys = await snapshot(shared["id"])
    edited = await update(who.owner, shared["id"], severity="HIGH")
    assert edited["errors"] == []
    after, recipients_after, keys_after = await snapshot(shared["id"])
    changed = {name for name in columns if columns[name] != after[name]}
    assert changed == {"severity", "updated_at"}
    assert (recipients_after, keys_after) == (recipients, keys) == (["named"], ["pypi/requests"])
    assert edited["threat"]["recipients"] == ["named"]


async def test_others_are_refused_and_nothing_changes(who: Principals) -> None:
    shared = await share(who.owner, tlp="AMBER", recipients=["named"])
    unchanged = await snapshot(shared["id"])
    # a named recipient reads it, yet may not change it; another member does not read it
    for gql, code in ((who.named, "INVALID"), (who.other, "NOT_FOUND")):
        refused = await update(gql, shared["id"], title="mine", tlp="CLEAR")
        assert refused["threat"] is None
        assert [(e["field"], e["code"]) for e in refused["errors"]] == [("id", code)]
    refused = await update(who.named, shared["id"], title="mine")
    assert "only its owner or an admin" in refused["errors"][0]["message"]
    assert await snapshot(shared["id"]) == unchanged
    by_admin = await update(who.admin, shared["id"], title="Checked by the admin")
    assert by_admin["errors"] == [] and by_admin["threat"]["author"] == {"name": "owner"}


async def test_an_unreadable_threat_is_not_found(who: Principals) -> None:
    strict = await share(who.owner, tlp="AMBER_STRICT")
    unchanged = await snapshot(strict["id"])
    missing = base64.b64encode(f"Threat:{uuid.uuid4()}".encode()).decode()
    for threat_id in (strict["id"], missing):
        refused = await update(who.other, threat_id, title="found it")
        assert refused["threat"] is None
        assert [(e["field"], e["code"]) for e in refused["errors"]] == [("id", "NOT_FOUND")]
    assert await snapshot(strict["id"]) == unchanged
    withdrawn = await share(who.owner)
    await who.owner("mutation($id: ID!) { withdrawCommunityItem(id: $id) { errors { code } } }",
                    {"id": withdrawn["id"]})
    gone = await update(who.owner, withdrawn["id"], title="back")
    assert gone["errors"][0]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(("changes", "field", "code"), [
    ({"title": "   "}, "title", "INVALID"),
    ({"title": "nul \x00 byte"}, "title", "INVALID"),
    ({"description": "nul \x00 byte"}, "description", "INVALID"),
    ({"mitigations": ["m" * 2_001]}, "mitigations", "INVALID"),
    ({"indicators": ["[file:name = "]}, "indicators.0", "INVALID"),
    ({"affectedComponents": [{"package": "pkg:pypi/requests@2.0"}]},
     "affectedComponents.0", "INVALID"),
    ({"recipients": ["named"]}, "recipients", "INVALID"),  # GREEN names nobody
    ({"tlp": "CLEAR", "recipients": ["named"]}, "recipients", "INVALID"),
])
async def test_bad_input_is_refused_and_writes_nothing(
    who: Principals, changes: dict[str, Any], field: str, code: str
) -> None:
    shared = await share(who.owner)
    unchanged = await snapshot(shared["id"])
    body = await who.owner(UPDATE, {"id": shared["id"], "input": {**changes,
                                                                 "severity": "LOW"}})
    payload = body["data"]["updateThreat"]
    assert payload["threat"] is None
    assert (payload["errors"][0]["field"], payload["errors"][0]["code"]) == (field, code), \
        payload
    assert payload["errors"][0]["message"]
    assert await snapshot(shared["id"]) == unchanged


@pytest.mark.parametrize(("arguments", "code", "says"), [
    ({"input": {"tlp": "VIOLET"}}, None, "VIOLET"),
    ({"input": {"title": "t" * 201}}, "BAD_USER_INPUT", "over its limit of 200"),
    ({"input": {"description": "d" * 20_001}}, "BAD_USER_INPUT", "over its limit of 20000"),
    ({"input": {"title": "t"}, "id": "not-an-id"}, "BAD_USER_INPUT", "is not a Threat id"),
    ({"input": {"title": "t"}, "id": base64.b64encode(
        f"StixObject:{uuid.uuid4()}".encode()).decode()}, "BAD_USER_INPUT",
     "is not a Threat id"),
])
async def test_malformed_requests_are_graphql_errors_and_write_nothing(
    who: Principals, arguments: dict[str, Any], code: str | None, says: str
) -> None:
    shared = await share(who.owner)
    unchanged = await snapshot(shared["id"])
    body = await who.owner(UPDATE, {"id": shared["id"], **arguments})
    assert body.get("data") is None or body["data"]["updateThreat"] is None, body
    error = body["errors"][0]
    assert says in error["message"]
    if code is not None:
        assert error["extensions"]["code"] == code
    assert await snapshot(shared["id"]) == unchanged


async def test_lowering_tlp_hides_it_at_once(who: Principals) -> None:
    green = await share(who.owner, title="green then amber")
    red = await share(who.owner, title="red then strict", tlp="RED", recipients=["named"])
    assert await titles(who.other) == {"green then amber"}
    assert await titles(who.named) == {"green then amber", "red then strict"}

    lowered = await update(who.owner, green["id"], tlp="AMBER")
    assert (lowered["threat"]["tlp"], lowered["threat"]["visibility"]) == ("AMBER", "PRIVATE")
    assert await titles(who.other) == set()
    strict = await update(who.owner, red["id"], tlp="AMBER_STRICT")
    assert strict["threat"]["recipients"] == []  # AMBER+STRICT names nobody
    assert await titles(who.named) == set()
    # raising it back to AMBER does not quietly re-grant the recipients it dropped
    await update(who.owner, red["id"], tlp="AMBER")
    assert await titles(who.named) == set()
    node = "query($id: ID!) { node(id: $id) { id } }"
    assert (await who.named(node, {"id": red["id"]}))["data"]["node"] is None
    assert red["stixId"] not in json.dumps((await who.named(EXPORT))["data"])

    # recipients replaced: the new one reads it, the old one no longer does
    named = await update(who.owner, green["id"], recipients=["named"])
    assert named["threat"]["recipients"] == ["named"]
    assert await titles(who.named) == {"green then amber"}
    await update(who.owner, green["id"], recipients=["other"])
    assert await titles(who.named) == set() and await titles(who.other) == {"green then amber"}
    widened = await update(who.owner, green["id"], tlp="CLEAR")
    assert widened["threat"]["visibility"] == "PUBLIC"
    assert await titles(who.named) == {"green then amber"}


async def test_changed_components_are_reindexed_for_matching(
    who: Principals, app: RunningApp
) -> None:
    shared = await share(who.owner)
    project = await Project.create(slug="github.com/acme/app")
    evidence = uuid.uuid4()
    await SbomComponent.create(project_id=project.id, evidence_uid=evidence, name="idna",
                               name_key="idna", version="3.0", purl="pkg:pypi/idna@3.0",
                               package="pypi/idna")
    reader = Caller("other", frozenset({COMMUNITY_READ}), True)
    assert await threat_matching.threats_matching_sbom(evidence, reader) == []

    edited = await update(who.owner, shared["id"], affectedComponents=[
        {"package": "pkg:pypi/idna", "versions": ">=3.0,<3.7"}])
    assert edited["threat"]["affectedComponents"] == [
        {"package": "pkg:pypi/idna", "versions": ">=3.0,<3.7"}]
    assert (await snapshot(shared["id"]))[2] == ["pypi/idna"]
    found = await threat_matching.threats_matching_sbom(evidence, reader)
    assert [(t.title, [m.component for m in matches]) for t, matches in found] == [
        ("Loader drops a miner", ["idna"])]
    # threatMatched subscribers hear of the edit as they hear of a share
    events = [json.loads(row.payload) for row in await OutboxEvent.filter(
        topic="community.threat_shared").order_by("position")]
    assert [event.get("cause") for event in events] == ["threat", "edit"]

    await update(who.owner, shared["id"], affectedComponents=[])
    assert (await snapshot(shared["id"]))[2] == []
    assert await threat_matching.threats_matching_sbom(evidence, reader) == []


async def test_an_anonymised_threat_is_scrubbed_on_edit(who: Principals) -> None:
    shared = await share(who.owner, anonymize=True, tlp="CLEAR", description="quiet")
    edited = await update(who.owner, shared["id"], title="Phish from evil.example.com",
                          description="Mail alice@example.com came from 10.1.2.3",
                          mitigations=["Block https://evil.example.com/login"])
    threat = edited["threat"]
    assert edited["errors"] == [] and threat["anonymized"] is True
    assert threat["title"] == "Phish from [redacted:host]"
    assert threat["description"] == "Mail [redacted:email] came from [redacted:ip]"
    assert threat["mitigations"] == ["Block [redacted:url]"]
    assert threat["author"] is None
    stored = (await snapshot(shared["id"]))[0]
    assert "alice@example.com" not in json.dumps(
        [stored["title"], stored["description"], stored["mitigations"]])
    too_long = await update(who.owner, shared["id"], title="a@b.io " * 28)
    assert too_long["errors"][0]["code"] == "TOO_LARGE"
    assert (await snapshot(shared["id"]))[0]["title"] == "Phish from [redacted:host]"
