"""snapshotCase and verifySnapshot through GraphQL: a snapshot of a template case fed with
genuine artifacts verifies, chains to the previous one, and stops verifying when an
evidence row it relied on or the case version it froze is edited in the database."""

from __future__ import annotations

import base64
import uuid
from typing import Any

from community.templates_kit import feed, template_artifacts

from arcos.assurance.models import AssuranceCaseVersion
from arcos.evidence.models import Evidence

__all__ = ["template_artifacts"]  # the session fixture the test takes

PROJECT = "github.com/acme/green"
SNAPSHOT = """mutation($id: String!) { snapshotCase(id: $id) {
  snapshot { hash previous number version caseId keyId body }
  errors { field message code } } }"""
VERIFY = "query($hash: String!) { verifySnapshot(hash: $hash) { valid problems } }"


def uid(global_id: str) -> uuid.UUID:
    return uuid.UUID(base64.b64decode(global_id).decode().partition(":")[2])


async def verify(gql: Any, digest: str) -> dict[str, Any]:
    return (await gql(VERIFY, {"hash": digest}))["data"]["verifySnapshot"]


async def test_snapshots_chain_and_detect_tampering(app, gql, template_artifacts):
    green = await feed(gql, template_artifacts, "green", PROJECT, sbom=True)
    made = await gql("""mutation { createCaseFromTemplate(input: {template: "healthcare",
        project: "github.com/acme/green"}) { case { caseId } } }""")
    case_id = made["data"]["createCaseFromTemplate"]["case"]["caseId"]
    first = (await gql(SNAPSHOT, {"id": case_id}))["data"]["snapshotCase"]
    assert first["errors"] == []
    taken = first["snapshot"]
    assert (taken["number"], taken["previous"], taken["version"]) == (1, None, 1)
    report = str(uid(green["test_results"]))
    assert report in taken["body"]["evidence"]
    assert taken["body"]["elements"]["Sn1.TR"]["evidence"] == [report]
    assert await verify(gql, taken["hash"]) == {"valid": True, "problems": []}

    second = (await gql(SNAPSHOT, {"id": case_id}))["data"]["snapshotCase"]["snapshot"]
    assert (second["number"], second["previous"]) == (2, taken["hash"])
    assert (await verify(gql, second["hash"]))["valid"]

    await Evidence.filter(uid=uid(green["test_results"])).update(data={"forged": True})
    tampered = await verify(gql, taken["hash"])
    assert not tampered["valid"]
    assert any(f"evidence {report}: its data changed" in p for p in tampered["problems"])

    version = await AssuranceCaseVersion.get(number=1, case__uid=uuid.UUID(case_id))
    version.elements = [{**e, "text": "Edited."} if e["id"] == "G1" else e
                        for e in version.elements]
    await version.save()
    edited = await verify(gql, second["hash"])
    assert any("was edited after the snapshot" in p for p in edited["problems"])

    missing = await gql(VERIFY, {"hash": "0" * 64})
    assert missing["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "no snapshot with hash" in missing["errors"][0]["message"]
    unknown = (await gql(SNAPSHOT, {"id": str(uuid.uuid4())}))["data"]["snapshotCase"]
    assert unknown["errors"][0]["code"] == "NOT_FOUND"
