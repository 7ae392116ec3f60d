"""Release snapshots of a case evaluated on genuine artifacts: signed with a real server key,
chained, and failing verification after the evidence rows, the case or the snapshot itself
are edited in the database."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from community.templates_kit import feed, template_artifacts
from test_assurance_evaluation import GREEN, now_of, rule, uid

from arcos.assurance.evaluation import ElementStatus, aggregate, evaluate_rules
from arcos.assurance.rules import parse_rule, rule_to_json
from arcos.assurance.snapshots import Seal, Snapshot, build, check, read_seals, take, verify
from arcos.evidence.canonical import canonical_json, sha256_hex
from arcos.evidence.models import Evidence
from arcos.plugins.signing import PluginSigner

__all__ = ["template_artifacts"]  # the session fixture the tests below take

RULES = {
    "Sn1": {"metric": "tests.pass_rate", "predicate": ">= 0.95"},
    "Sn2": {"type": "test_coverage", "max_age_days": 30},
    "Sn3": {"type": "sbom"},
}


def document() -> dict[str, Any]:
    """A case's JSON form (the shape arcos/assurance/document.py writes)."""
    def node(id: str, type: str, text: str, supported_by: list[str] = (), **more: Any
             ) -> dict[str, Any]:
        return {"id": id, "type": type, "text": text, "supportedBy": list(supported_by),
                "inContextOf": [], "undeveloped": False, "evidenceTypes": [], **more}

    return {"title": "Release 1.0 is acceptably tested", "elements": [
        node("G1", "goal", "Release 1.0 is acceptably tested", ["S1"]),
        node("S1", "strategy", "Argue over each kind of test evidence", ["Sn1", "Sn2", "Sn3"]),
        *(node(element, "solution", f"Evidence {element}", arcos=raw)
          for element, raw in RULES.items())]}


async def snapshot_of(doc: dict[str, Any], now: Any, signer: PluginSigner,
                      previous: str | None = None) -> Snapshot:
    """Evaluate the case's rules, aggregate and snapshot it, as snapshotCase will."""
    elements = {item["id"]: item for item in doc["elements"]}
    solutions = [key for key, item in elements.items() if "arcos" in item]
    verdicts = dict(zip(solutions, await evaluate_rules(
        [rule(**elements[key]["arcos"]) for key in solutions], GREEN, at=None, now=now),
        strict=True))
    statuses = aggregate("G1", {key: item["supportedBy"] for key, item in elements.items()},
                         {key: item["type"] for key, item in elements.items()}, (), verdicts)
    return await take(case_id="case-1", version=1, project=GREEN, document=doc,
                      statuses=statuses, verdicts=verdicts, previous=previous, taken_at=now,
                      signer=signer)


@pytest.fixture
def signer(tmp_path: Path) -> PluginSigner:
    return PluginSigner.load_or_create(tmp_path / "server-signing.key")


async def test_a_snapshot_detects_edited_evidence(app, gql, template_artifacts, signer):
    green = await feed(gql, template_artifacts, "green", GREEN, sbom=True)
    doc = document()
    snapshot = await snapshot_of(doc, now_of(app), signer)
    body = snapshot.body
    assert body["elements"]["G1"]["status"] == "SUPPORTED"
    assert body["elements"]["Sn1"]["evidence"] == [str(uid(green["test_results"]))]
    sealed = {str(uid(green[kind])) for kind in ("test_results", "test_coverage", "sbom")}
    assert set(body["evidence"]) == sealed
    stored = await Evidence.get(uid=uid(green["sbom"]))
    assert body["evidence"][str(stored.uid)]["sha256"] == stored.sha256  # the store's own hash

    # stored as JSON text and read back, it still verifies
    kept = Snapshot.from_json(json.loads(json.dumps(snapshot.to_json())))
    assert (await verify(kept, document=doc, previous=None, signer=signer)).valid

    # evidence arriving later changes nothing the snapshot relied on
    await feed(gql, template_artifacts, "red", GREEN, sbom=False)
    assert (await verify(kept, document=doc, previous=None, signer=signer)).valid

    # an edit of one item's data in the database, its sha256 column left as it was
    report = uid(green["test_results"])
    await Evidence.filter(uid=report).update(data={"tests": [], "forged": True})
    edited = await verify(kept, document=doc, previous=None, signer=signer)
    assert not edited.valid
    assert edited.problems[0].startswith(f"evidence {report}: its data changed")
    assert len(edited.problems) == 1

    # an edit that also rewrites the sha256 column to match is caught all the same
    sbom = uid(green["sbom"])
    forged = {"bomFormat": "CycloneDX", "components": []}
    await Evidence.filter(uid=sbom).update(data=forged,
                                           sha256=sha256_hex(canonical_json(forged)))
    both = await verify(kept, document=doc, previous=None, signer=signer)
    assert sorted(both.problems) == sorted([
        *edited.problems,
        f"evidence {sbom}: its data changed (SHA-256 {stored.sha256} at the snapshot, "
        f"{sha256_hex(canonical_json(forged))} now)",
        f"evidence {sbom}: its row changed (type, source, project, commit, ref, metadata, "
        "sha256 column or received-at)"])

    # and so is moving an item's received-at time back
    coverage = uid(green["test_coverage"])
    row = await Evidence.get(uid=coverage)
    await Evidence.filter(uid=coverage).update(created_at=row.created_at - timedelta(days=1))
    moved = await verify(kept, document=doc, previous=None, signer=signer)
    assert any(problem.startswith(f"evidence {coverage}: its row changed")
               for problem in moved.problems), moved
    assert len(moved.problems) == 4


async def test_a_snapshot_detects_an_edited_case_and_an_edited_snapshot(
        app, gql, template_artifacts, signer, tmp_path):
    await feed(gql, template_artifacts, "green", GREEN, sbom=True)
    doc = document()
    snapshot = await snapshot_of(doc, now_of(app), signer)
    assert (await verify(snapshot, document=doc, previous=None, signer=signer)).valid

    # the case as stored for this version, edited afterwards: a rule weakened
    weakened = copy.deepcopy(doc)
    weakened["elements"][2]["arcos"]["predicate"] = ">= 0.5"
    found = await verify(snapshot, document=weakened, previous=None, signer=signer)
    assert found.problems == ("case case-1 version 1 was edited after the snapshot: changed "
                              "element Sn1",)
    retitled = {**doc, "title": "Something else"}
    assert "changed title" in (await verify(snapshot, document=retitled, previous=None,
                                            signer=signer)).problems[0]
    gone = await verify(snapshot, document=None, previous=None, signer=signer)
    assert gone.problems == ("version 1 of case case-1 is no longer stored",)

    # the snapshot row edited: a status changed, then the hash recomputed as well
    stored = snapshot.to_json()
    stored["body"]["elements"]["Sn1"]["status"] = "FAILING"
    tampered = Snapshot.from_json(stored)
    problems = (await verify(tampered, document=doc, previous=None, signer=signer)).problems
    assert problems[0].startswith("the snapshot's content does not match its hash")
    rehashed = Snapshot(tampered.body, sha256_hex(canonical_json(tampered.body)),
                        tampered.signature, tampered.key_id)
    assert (await verify(rehashed, document=doc, previous=None, signer=signer)).problems == (
        "the signature does not match the snapshot's hash under this server's key",)

    # another server's key
    other = PluginSigner.load_or_create(tmp_path / "other.key")
    assert "not this server's" in (await verify(snapshot, document=doc, previous=None,
                                                signer=other)).problems[0]


async def test_snapshots_chain(app, gql, template_artifacts, signer):
    await feed(gql, template_artifacts, "green", GREEN, sbom=True)
    doc = document()
    first = await snapshot_of(doc, now_of(app), signer)
    second = await snapshot_of(doc, now_of(app) + timedelta(hours=1), signer,
                               previous=first.hash)
    assert second.previous == first.hash and second.hash != first.hash
    assert (await verify(second, document=doc, previous=first, signer=signer)).valid
    # a snapshot left out of the chain, or another case's
    assert "not stored" in (await verify(second, document=doc, previous=None,
                                         signer=signer)).problems[0]
    third = await snapshot_of(doc, now_of(app) + timedelta(hours=2), signer,
                              previous=second.hash)
    assert "the chain is broken" in (await verify(third, document=doc, previous=first,
                                                  signer=signer)).problems[0]
    # the previous snapshot edited in place
    edited = Snapshot.from_json({**first.to_json(), "body": {**first.body, "taken_at": "x"}})
    assert (await verify(second, document=doc, previous=edited, signer=signer)).problems == (
        f"the previous snapshot {first.hash} was edited",)


async def test_removed_evidence_and_missing_seals(app, gql, template_artifacts, signer):
    green = await feed(gql, template_artifacts, "green", GREEN, sbom=True)
    doc = document()
    snapshot = await snapshot_of(doc, now_of(app), signer)
    seals = await read_seals(uid(green[kind]) for kind in ("test_results", "test_coverage"))
    assert len(seals) == 2
    result = check(snapshot, document=doc, seals=seals, previous=None, signer=signer)
    assert result.problems == (f"evidence {uid(green['sbom'])} is no longer stored",)
    with pytest.raises(ValueError, match="no seal for evidence"):
        build(case_id="c", version=1, project=GREEN, document=doc,
              statuses={"Sn1": ElementStatus.SUPPORTED},
              verdicts={"Sn1": (await evaluate_rules([rule(**RULES["Sn1"])], GREEN, at=None,
                                                     now=now_of(app)))[0]},
              seals={}, previous=None, taken_at=now_of(app), signer=signer)


def test_record_signatures_are_bound_to_their_purpose(tmp_path: Path) -> None:
    signer = PluginSigner.load_or_create(tmp_path / "k.key")
    signature = signer.sign_record("assurance-snapshot", b"abc")
    assert signer.verify_record("assurance-snapshot", b"abc", signature)
    assert not signer.verify_record("assurance-snapshot", b"abd", signature)
    assert not signer.verify_record("other-record", b"abc", signature)
    assert not signer.verify_record("assurance-snapshot", b"abc", "not base64!")
    with pytest.raises(ValueError):
        signer.sign_record("Bad Purpose\n", b"abc")
    assert Seal("a", "b").to_json() == {"sha256": "a", "row": "b"}
    problems: list[Any] = []
    for raw in RULES.values():  # the document's rules are ones a case accepts
        parsed = parse_rule(raw, "arcos", problems)
        assert parsed is not None and rule_to_json(parsed) == raw, problems
