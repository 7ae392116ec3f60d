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
