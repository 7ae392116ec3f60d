"""complianceStatus on projects fed with genuine artifacts (pytest, coverage.py, Bandit,
cyclonedx-py run in the test session): every state, the evidence behind each answer, the
checklist exports, the scopes it needs, and reads that do not grow with the controls."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

from conftest import GraphQLClient
from templates_kit import feed, template_artifacts
from tortoise import connections

from arcos.community.compliance_content import FRAMEWORKS
from arcos.evidence.models import Evidence

__all__ = ["template_artifacts"]  # the session fixture the tests below take

GREEN = "github.com/acme/green"
RED = "github.com/acme/red"
GATE = {
    "key": "kit-gate", "name": "Kit release gate", "version": "1",
    "controls": [
        {"id": "TR-1", "title": "Tests pass", "checklist": "Did the tests pass?",
         "checks": [{"kind": "evidence", "types": ["test_results"], "days": 30},
                    {"kind": "metric", "expression": "tests.pass_rate >= 0.95", "days": 30}]},
        {"id": "COV-1", "title": "Coverage", "checklist": "Is coverage at least half?",
         "checks": [{"kind": "metric", "expression": "coverage.line_rate >= 0.5", "days": 30}]},
        {"id": "SAST-1", "title": "No high findings", "checklist": "Are high findings fixed?",
         "checks": [{"kind": "metric", "expression": "findings.high == 0", "days": 30}]},
        {"id": "SBOM-1", "title": "Inventory", "checklist": "Is there an SBOM?",
         "checks": [{"kind": "sbom", "days": 90}]},
        {"id": "CR-1", "title": "Reviews", "checklist": "Are changes reviewed?",
         "checks": [{"kind": "evidence", "types": ["code_review", "pull_request"]}]},
        {"id": "AC-1", "title": "Access reviews", "checklist": "Are accesses reviewed?",
         "checks": [{"kind": "evidence", "types": ["access_review"], "days": 90}]},
    ],
}
STATUS = """query($project: String!, $framework: String!) {
  complianceStatus(project: $project, framework: $framework) {
    project summary { satisfied failing missing stale total }
    controls { controlId status evidenceIds checks { status detail evidenceIds value } }
  }
}"""


async def add_gate(gql: Any) -> None:
    body = await gql("mutation($i: AddComplianceTemplateInput!) { addComplianceTemplate("
                     "input: $i) { template { key } errors { field message } } }",
                     {"i": GATE})
    assert body["data"]["addComplianceTemplate"]["errors"] == [], body


async def review(gql: Any, project: str) -> str:
    """A code review as the GitHub webhook records one."""
    body = await gql("mutation($i: SubmitEvidenceInput!) { submitEvidence(input: $i) { "
                     "evidence { id } errors { message } } }",
                     {"i": {"type": "code_review", "source": "github", "project": project,
                            "data": {"state": "approved", "reviewer": "bob"}}})
    return body["data"]["submitEvidence"]["evidence"]["id"]


async def status(gql: Any, project: str, framework: str = "kit-gate") -> dict[str, Any]:
    body = await gql(STATUS, {"project": project, "framework": framework})
    assert "errors" not in body, body
    return {c["controlId"]: c for c in body["data"]["complianceStatus"]["controls"]} | {
        "_summary": body["data"]["complianceStatus"]["summary"]}


async def test_status_of_genuine_artifacts(app, gql, template_artifacts):
    await add_gate(gql)
    green = await feed(gql, template_artifacts, "green", GREEN, sbom=True)
    green_review = await review(gql, GREEN)
    red = await feed(gql, template_artifacts, "red", RED, sbom=False)

    good = await status(gql, GREEN)
    assert {k: v["status"] for k, v in good.items() if k != "_summary"} == {
        "TR-1": "SATISFIED", "COV-1": "SATISFIED", "SAST-1": "SATISFIED",
        "SBOM-1": "SATISFIED", "CR-1": "SATISFIED", "AC-1": "MISSING"}
    assert good["_summary"] == {"satisfied": 5, "failing": 0, "missing": 1, "stale": 0,
                                "total": 6}
    assert good["TR-1"]["evidenceIds"] == [green["test_results"]]
    assert good["COV-1"]["evidenceIds"] == [green["test_coverage"]]
    assert good["SAST-1"]["evidenceIds"] == [green["security_scan"]]
    assert good["SBOM-1"]["evidenceIds"] == [green["sbom"]]
    assert good["CR-1"]["evidenceIds"] == [green_review]
    assert good["AC-1"]["evidenceIds"] == []
    assert good["TR-1"]["checks"][1]["value"] == 1.0

    bad = await status(gql, RED)
    assert {k: v["status"] for k, v in bad.items() if k != "_summary"} == {
        "TR-1": "FAILING", "COV-1": "SATISFIED", "SAST-1": "FAILING",
        "SBOM-1": "MISSING", "CR-1": "MISSING", "AC-1": "MISSING"}
    assert bad["TR-1"]["checks"][1]["value"] == 0.5
    assert "needs >= 0.95" in bad["TR-1"]["checks"][1]["detail"]
    assert red["security_scan"] in bad["SAST-1"]["evidenceIds"]
    assert bad["SAST-1"]["checks"][0]["value"] >= 1

    # Forty days on, by the app's clock: the 30-day checks are stale, the 90-day ones not.
    writer = app.app.state.writer
    real_clock = writer.clock
    writer.clock = lambda: real_clock() + timedelta(days=40)
    try:
        later = await status(gql, GREEN)
    finally:
        writer.clock = real_clock
    assert {k: v["status"] for k, v in later.items() if k != "_summary"} == {
        "TR-1": "STALE", "COV-1": "STALE", "SAST-1": "STALE", "SBOM-1": "SATISFIED",
        "CR-1": "SATISFIED", "AC-1": "MISSING"}
    assert later["TR-1"]["evidenceIds"] == [green["test_results"]]
    assert "40 days old" in later["TR-1"]["checks"][0]["detail"]

    # Built-in frameworks read the same evidence.
    pci = await status(gql, GREEN, "pci-dss")
    assert pci["6.3.2"]["status"] == "SATISFIED"
    assert pci["6.3.2"]["evidenceIds"] == [green["sbom"]]
    cis = await status(gql, RED, "cis-controls")
    assert cis["16.12"]["status"] == "FAILING"


async def test_checklist_exports_parse(app, gql, template_artifacts):
    await add_gate(gql)
    green = await feed(gql, template_artifacts, "green", GREEN, sbom=True)
    query = ("query($f: String!, $p: String, $format: ChecklistFormat!) { "
             "complianceChecklist(framework: $f, project: $p, format: $format) }")
    text = (await gql(query, {"f": "kit-gate", "p": GREEN, "format": "CSV"})
            )["data"]["complianceChecklist"]
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["control"] for row in rows] == [c["id"] for c in GATE["controls"]]
    by_id = {row["control"]: row for row in rows}
    assert by_id["TR-1"]["status"] == "SATISFIED"
    assert by_id["TR-1"]["evidence_ids"] == green["test_results"]
    assert by_id["AC-1"]["status"] == "MISSING"
    assert "tests.pass_rate >= 0.95" in by_id["TR-1"]["evidence"]

    markdown = (await gql(query, {"f": "kit-gate", "p": GREEN, "format": "MARKDOWN"})
                )["data"]["complianceChecklist"]
    lines = markdown.splitlines()
    table = [line for line in lines if line.startswith("| ")]
    assert table[0].startswith("| control | title | question | evidence | status |")
    assert len(table) == 1 + len(GATE["controls"])
    assert any(line.startswith("| SBOM-1 | Inventory |") and "| SATISFIED |" in line
               for line in table)

    for framework in FRAMEWORKS:  # every built-in exports without a project
        text = (await gql(query, {"f": framework.key, "p": None, "format": "CSV"})
                )["data"]["complianceChecklist"]
        rows = list(csv.DictReader(io.StringIO(text)))
        assert [row["control"] for row in rows] == [c.id for c in framework.controls]
        assert all(row["question"] and row["evidence"] for row in rows)


async def test_status_needs_evidence_read_and_a_known_project_and_framework(app, gql):
    member = await app.issue("member", "community:read")
    async with app.client(member) as http:
        body = await GraphQLClient(http)(STATUS, {"project": GREEN, "framework": "soc2"})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "evidence:read" in body["errors"][0]["message"]
    body = await gql(STATUS, {"project": "github.com/nobody/none", "framework": "soc2"})
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    body = await gql(STATUS, {"project": "acme/\u0000app", "framework": "soc2"})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = await gql(STATUS, {"project": GREEN, "framework": "no\u0000such"})
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    await review(gql, GREEN)
    body = await gql(STATUS, {"project": GREEN, "framework": "sox"})
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert "soc2" in body["errors"][0]["message"]


EVALUATED = ("project", "evidence", "quality_metric", "finding")


async def test_reads_do_not_grow_with_the_controls(app, gql, template_artifacts):
    await feed(gql, template_artifacts, "red", RED, sbom=True)
    client = connections.get("default")
    seen: list[str] = []
    original = client.execute_query

    async def counting(query: str, values: Any = None) -> Any:
        seen.append(query)
        return await original(query, values)

    client.execute_query = counting
    try:
        counts = {}
        for key in ("gdpr", "nist-800-53"):  # 6 controls, 18 controls
            seen.clear()
            await status(gql, RED, key)
            counts[key] = sorted(
                table for q in seen if q.lstrip().upper().startswith("SELECT")
                for table in EVALUATED if f'FROM "{table}"' in q)
    finally:
        client.execute_query = original
    # The project, the newest evidence per type (one ranked query), metrics, findings.
    assert counts["gdpr"] == counts["nist-800-53"] == sorted(
        ["project", "evidence", "quality_metric", "finding"]), counts


async def test_the_newest_evidence_is_the_latest_received_not_the_latest_inserted(app, gql):
    """Staleness is measured from `created_at`: a row inserted later but dated earlier
    (a restored or migrated one) must not hide the fresher evidence."""
    await add_gate(gql)
    fresh = await review(gql, RED)
    older = await review(gql, RED)
    rows = await Evidence.filter(project__slug=RED, type="code_review").order_by("seq")
    assert len(rows) == 2
    await Evidence.filter(seq=rows[1].seq).update(
        created_at=datetime.now(UTC) - timedelta(days=400))
    control = (await status(gql, RED))["CR-1"]
    assert control["status"] == "SATISFIED", control
    assert control["evidenceIds"] == [fresh] and older not in control["evidenceIds"]
