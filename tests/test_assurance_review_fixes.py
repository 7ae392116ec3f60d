"""Regressions from the assurance-case review: what a writer-only token may see, the cost
of away goals, YAML parsed off the event loop, snapshot verification binding, huge numbers
in evidence data, control characters, and reserved element ids."""

from __future__ import annotations

import pytest
from conftest import GraphQLClient

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

PROJECT = "github.com/acme/app"
CREATE = """mutation($input: CreateAssuranceCaseInput!) { createAssuranceCase(input: $input) {
  case { caseId wellformedness } errors { field message code } } }"""
SUBMIT = """mutation($i: SubmitEvidenceInput!) { submitEvidence(input: $i) {
  evidence { id } errors { field message code } } }"""
SNAP = """mutation($id: String!) { snapshotCase(id: $id) { snapshot { hash number body }
  errors { message } } }"""


async def create(gql, doc=None, yaml=None, project=PROJECT) -> str:
    given = {"project": project, **({"yaml": yaml} if yaml is not None else {"json": doc})}
    answer = await gql(CREATE, {"input": given})
    assert "errors" not in answer, answer
    payload = answer["data"]["createAssuranceCase"]
    assert payload["errors"] == [], payload["errors"]
    return payload["case"]["caseId"]


PROBE = """module: {name: probe}
G1: {text: c, supportedBy: [Sn1]}
Sn1: {text: s, arcos: {type: secrets, project: github.com/victim/app,
                       predicate: 'data.token == guess'}}
"""
LEAK = """mutation($input: CreateAssuranceCaseInput!) { createAssuranceCase(input: $input) {
  case { caseId status { elements { id status evidenceIds reason } } }
  errors { message } } }"""
LEAK_PARTS = ["elements { id rule }", "versions { number }",
              "export(format: SVG) { content }", "status { status }"]


async def test_a_writer_only_token_reads_no_evidence_through_case_payloads(app, gql):
    stored = await gql(SUBMIT, {"i": {"type": "secrets", "source": "vault",
                                      "project": "github.com/victim/app",
                                      "data": {"token": "hunter2-s3cret"}}})
    assert stored["data"]["submitEvidence"]["errors"] == []
    writer = await app.issue("ci-writer", "evidence:write")
    async with app.client(writer) as http:
        as_writer = GraphQLClient(http)
        answer = await as_writer(LEAK, {"input": {"project": "github.com/writer/own",
                                                  "yaml": PROBE}})
        assert "hunter2" not in str(answer)
        assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        # the writer still learns what it needs: the case id and its well-formedness
        own = await as_writer(CREATE, {"input": {"project": "github.com/writer/own",
                                                 "yaml": PROBE}})
        case = own["data"]["createAssuranceCase"]["case"]
        assert case["wellformedness"] == "WELL_FORMED"
        for part in LEAK_PARTS:
            update = ("mutation($input: UpdateAssuranceCaseInput!) { updateAssuranceCase("
                      f"input: $input) {{ case {{ caseId {part} }} }} }}")
            leaked = await as_writer(update, {"input": {"id": case["caseId"], "yaml": PROBE}})
            assert leaked["errors"][0]["extensions"]["code"] == "FORBIDDEN", (part, leaked)
            assert "hunter2" not in str(leaked)
        snapped = await as_writer(SNAP, {"id": case["caseId"]})
        assert snapped["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert "hunter2" not in str(snapped)
    # a reader sees it all
    read = await gql(SNAP, {"id": case["caseId"]})
    assert "hunter2" in str(read["data"]["snapshotCase"]["snapshot"]["body"])


def layer(title: str, prefix: str, away: list[str] | None = None, module: str | None = None,
          k: int = 8) -> dict:
    """A case whose root has k public goals, each supported by every away goal in `away`.
    Every id is the layer's own: ids must be unique across the modules a case refers to."""
    elements = [{"id": f"G{title}", "type": "goal", "text": title,
                 "supportedBy": [f"{prefix}{i}" for i in range(k)]}]
    for i in range(k):
        goal = {"id": f"{prefix}{i}", "type": "goal", "text": "x", "public": True}
        elements.append({**goal, "supportedBy": away} if away else {**goal,
                                                                     "undeveloped": True})
    elements += [{"id": a, "type": "away_goal", "text": "away", "module": module}
                 for a in away or ()]
    return {"title": title, "elements": elements}


async def test_away_goals_read_each_case_once(app, client, gql, monkeypatch):
    from arcos.assurance import status as status_module

    k = 8
    d = await create(gql, layer("D", "P", k=k))
    c = await create(gql, layer("C", "Q", [f"P{i}" for i in range(k)], d, k=k))
    b = await create(gql, layer("B", "R", [f"Q{i}" for i in range(k)], c, k=k))
    a = await create(gql, layer("A", "T", [f"R{i}" for i in range(k)], b, k=k))
    calls = 0
    real = status_module.case_status

    async def counting(*args, **kwargs):
        nonlocal calls
        calls += 1
        return await real(*args, **kwargs)

    monkeypatch.setattr(status_module, "case_status", counting)
    answer = await client.get(f"/api/v3/cases/{a}/status")
    assert answer.status_code == 200, answer.text
    assert calls == 3  # B, C and D once each (A itself is called by the REST row directly)
    assert answer.json()["status"]["status"] == "OPEN"


async def test_away_goals_reaching_too_many_cases_are_open_with_a_reason(app, client, gql,
                                                                          monkeypatch):
    from arcos.assurance import status as status_module

    monkeypatch.setattr(status_module, "MAX_MODULES", 1)
    c = await create(gql, layer("C", "Q", k=1))
    d = await create(gql, layer("D", "P", k=1))
    b = await create(gql, {"title": "B", "elements": [
        {"id": "GB", "type": "goal", "text": "b", "supportedBy": ["Q0", "P0"]},
        {"id": "Q0", "type": "away_goal", "text": "away", "module": c},
        {"id": "P0", "type": "away_goal", "text": "away", "module": d}]})
    answer = await client.get(f"/api/v3/cases/{b}/status")
    assert answer.status_code == 200, answer.text
    reasons = " ".join(e["reason"] for e in answer.json()["status"]["elements"])
    assert "reach more than 1 cases" in reasons


VALIDATE = "query($y: String) { validateCase(yaml: $y) { wellformedness } }"


async def test_large_yaml_is_parsed_off_the_event_loop(app, gql, monkeypatch):
    import threading

    from arcos.assurance import service

    threads: list[int] = []
    real = service._from_yaml

    def recording(*args):
        threads.append(threading.get_ident())
        return real(*args)

    monkeypatch.setattr(service, "_from_yaml", recording)
    small = "module: {name: T}\nG1: {text: a, undeveloped: true}\n"
    large = small + "".join(f"# comment {i:06} {'x' * 80}\n" for i in range(200))
    assert len(large) > service.INLINE_YAML_BYTES > len(small)
    for body in (small, large):
        answer = await gql(VALIDATE, {"y": body})
        assert "errors" not in answer, answer
        assert answer["data"]["validateCase"]["wellformedness"] == "INCOMPLETE"
    loop_thread = threading.get_ident()  # the server runs in this test's event loop
    assert threads[0] == loop_thread and threads[1] != loop_thread


async def test_a_yaml_expanding_beyond_gsn_scale_is_refused_clearly(app, gql, client):
    body = "G1: {text: a, supportedBy: [" + ",".join(["Sn1"] * 40000) + "]}\n"
    answer = await gql(VALIDATE, {"y": body})
    assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "expands to more than 12000 nodes" in answer["errors"][0]["message"]
    posted = await client.post("/api/v3/cases", params={"project": PROJECT}, content=body,
                               headers={"content-type": "application/yaml"})
    assert posted.status_code in (400, 422) and "12000 nodes" in posted.text


VERIFY = """query($h: String!) { verifySnapshot(hash: $h) { valid problems
  snapshot { hash number } } }"""
BOUND = ("module: {name: T}\nG1: {text: c, supportedBy: [Sn1]}\n"
         "Sn1: {text: s, arcos: {type: test_results}}\n")


async def test_verify_binds_the_row_to_the_signed_snapshot(app, gql):
    from arcos.assurance.models import AssuranceSnapshot

    case = await create(gql, yaml=BOUND)
    first = (await gql(SNAP, {"id": case}))["data"]["snapshotCase"]["snapshot"]
    second = (await gql(SNAP, {"id": case}))["data"]["snapshotCase"]["snapshot"]
    before = (await gql(VERIFY, {"h": second["hash"]}))["data"]["verifySnapshot"]
    assert before["valid"] is True, before
    row1 = await AssuranceSnapshot.get(hash=first["hash"])
    await AssuranceSnapshot.filter(hash=second["hash"]).update(snapshot=row1.snapshot)
    after = (await gql(VERIFY, {"h": second["hash"]}))["data"]["verifySnapshot"]
    assert after["valid"] is False
    assert any(f"holds snapshot {first['hash']}" in p for p in after["problems"]), after
    # a snapshot whose stored JSON is no snapshot any more: a clear error, not a 500
    await AssuranceSnapshot.filter(hash=second["hash"]).update(snapshot={"body": 1})
    broken = await gql(VERIFY, {"h": second["hash"]})
    assert broken["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "not a snapshot any more" in broken["errors"][0]["message"]


async def test_verify_detects_a_case_moved_to_another_project(app, gql):
    import uuid

    from arcos.assurance.models import AssuranceCase

    case = await create(gql, yaml=BOUND)
    snap = (await gql(SNAP, {"id": case}))["data"]["snapshotCase"]["snapshot"]
    await AssuranceCase.filter(uid=uuid.UUID(case)).update(project="github.com/evil/other")
    verified = (await gql(VERIFY, {"h": snap["hash"]}))["data"]["verifySnapshot"]
    assert verified["valid"] is False
    assert any("now belongs to project github.com/evil/other" in p
               for p in verified["problems"]), verified


async def test_a_huge_integer_in_evidence_data_is_compared_exactly(app, client, gql):
    stored = await gql(SUBMIT, {"i": {"type": "test_results", "source": "pytest",
                                      "project": PROJECT, "data": {"failed": 10 ** 400}}})
    assert stored["data"]["submitEvidence"]["errors"] == [], stored
    case = await create(gql, yaml="module: {name: T}\nG1: {text: c, supportedBy: [Sn1]}\n"
                                  "Sn1: {text: s, arcos: {type: test_results, "
                                  "predicate: \"data.failed >= 0\"}}\n")
    answer = await client.get(f"/api/v3/cases/{case}/status")
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"]["status"] == "SUPPORTED"


async def test_control_characters_are_refused_and_svg_is_always_xml(app, gql):
    import xml.etree.ElementTree as ElementTree

    from arcos.assurance.document import CaseDocument
    from arcos.assurance.svg import to_svg
    from arcos.community.gsn import Node, NodeType

    for yaml in ('module: {name: T}\nG1: {text: "claim\\x01with SOH", undeveloped: true}\n',
                 'module: {name: T}\nG1: {text: "a\\x0bb", undeveloped: true}\n',
                 'module: {name: "a\\x01b"}\nG1: {text: x, undeveloped: true}\n'):
        answer = await gql(CREATE, {"input": {"project": PROJECT, "yaml": yaml}})
        errors = answer["data"]["createAssuranceCase"]["errors"]
        assert errors and "control characters" in errors[0]["message"], (yaml, answer)
    for title in ("a\u0000b", "a\nb"):
        doc = {"title": title, "elements": [{"id": "G1", "type": "goal", "text": "x",
                                             "undeveloped": True}]}
        answer = await gql(CREATE, {"input": {"project": PROJECT, "json": doc}})
        assert answer["data"]["createAssuranceCase"]["errors"][0]["field"] == "title"
    # tab and newline stay allowed in element text
    await create(gql, yaml='module: {name: T}\nG1: {text: "line\\n\\tmore", '
                           'undeveloped: true}\n')
    # a case stored before the refusal still draws as XML
    old = CaseDocument("T\x01", (Node("G1", NodeType.GOAL, "a\x01b", undeveloped=True),))
    ElementTree.fromstring(to_svg(old, {"G1": "OPEN"}))


async def test_module_is_a_reserved_element_id(app, gql):
    doc = {"title": "T", "elements": [
        {"id": "G1", "type": "goal", "text": "c", "supportedBy": ["module"]},
        {"id": "module", "type": "goal", "text": "sub", "undeveloped": True}]}
    answer = await gql(CREATE, {"input": {"project": PROJECT, "json": doc}})
    errors = answer["data"]["createAssuranceCase"]["errors"]
    assert any(e["field"] == "elements.1.id" and "reserved" in e["message"] for e in errors)


async def test_case_status_at_a_future_moment_is_refused(app, gql):
    case = await create(gql, yaml=BOUND)
    at = """query($id: String!, $at: DateTime!) { caseStatusAt(id: $id, at: $at) { status } }"""
    answer = await gql(at, {"id": case, "at": "2999-01-01T00:00:00Z"})
    assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "in the future" in answer["errors"][0]["message"]
    past = await gql(at, {"id": case, "at": "2001-01-01T00:00:00Z"})
    assert past["data"]["caseStatusAt"]["status"] == "MISSING"
