"""submitSbom of a BOM that embeds vulnerabilities (genuine `pip-audit -f cyclonedx-json`
output) is also a vulnerability scan: findings, vulns metrics and components in one unit of
work, one `sbom` evidence; a BOM without the array is no scan; compliance's vulns checks
are dated by such an SBOM; hostile arrays are refused or tracked, never half written."""

from __future__ import annotations

import json
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from arcos.evidence.models import Evidence
from arcos.intake import service
from arcos.intake.models import Finding, FindingState, IngestionJob, QualityMetric, SbomComponent
from arcos.settings import Settings

sys.path.insert(0, str(Path(__file__).parent / "formats"))
pytest_plugins = ["format_artifacts"]

PROJECT = "github.com/acme/audited"
LIMIT = 20
PAYLOAD = """
  jobId
  evidence { id type source data }
  metrics { name value }
  findings { total new fixed untracked }
  warnings
  errors { field message code }
"""


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """A small findings limit, so a hostile BOM can exceed it cheaply."""
    return Settings(database_url=database_url, max_findings_per_scan=LIMIT,
                    plugin_signing_key_path=str(tmp_path / "plugin-signing.key"))


async def submit(gql: Any, mutation: str, content: str | bytes) -> dict[str, Any]:
    text = content.decode() if isinstance(content, bytes) else content
    body = await gql(
        f"mutation($input: ArtifactInput!) {{ {mutation}(input: $input) {{ {PAYLOAD} }} }}",
        {"input": {"content": text, "project": PROJECT}},
    )
    assert "errors" not in body, body
    return body["data"][mutation]


async def accepted(gql: Any, mutation: str, content: str | bytes) -> dict[str, Any]:
    payload = await submit(gql, mutation, content)
    assert payload["errors"] == [], payload["errors"]
    return payload


def values(payload: dict[str, Any]) -> dict[str, float]:
    return {metric["name"]: metric["value"] for metric in payload["metrics"]}


def without_vulnerabilities(bom: bytes) -> str:
    """The same BOM, its vulnerabilities array emptied: a clean scan by the same tool."""
    return json.dumps({**json.loads(bom), "vulnerabilities": []})


async def open_findings(tool: str | None = None) -> list[Finding]:
    query = Finding.filter(project__slug=PROJECT, state=FindingState.OPEN)
    return await (query.filter(tool=tool) if tool else query).order_by("id")


async def test_an_sbom_with_vulnerabilities_records_a_scan_in_one_go(gql, genuine):
    payload = await accepted(gql, "submitSbom", genuine.read("pip-audit-cyclonedx"))
    evidence = payload["evidence"]
    assert evidence["type"] == "sbom"
    [stored] = await Evidence.all()  # one evidence item for the SBOM and its scan
    uid = stored.uid
    assert payload["findings"] == {"total": 2, "new": 2, "fixed": 0, "untracked": 0}
    measured = values(payload)
    assert measured["sbom.components"] == 3
    assert measured["vulns.total"] == 2 and measured["vulns.vulnerable_components"] == 2
    assert measured["findings.new"] == 2 and measured["findings.fixed"] == 0
    scan = evidence["data"]["vulnerabilities"]
    assert scan["totals"]["total"] == 2 and scan["vulnerable_components"] == 2
    assert scan["tracking"] == {"tracked": 2, "beyond_limit": 0, "limit": LIMIT}
    assert evidence["data"]["totals"]["components"] == 3

    found = await open_findings()
    assert sorted(row.vulnerability_id for row in found) == ["PYSEC-2099-1", "PYSEC-2099-2"]
    assert {row.kind for row in found} == {"sca"}
    assert {row.first_evidence_uid for row in found} == {uid}
    assert sorted(row.component for row in found) == ["demo-lib", "twin-lib"]
    components = await SbomComponent.filter(evidence_uid=uid).values_list("name", flat=True)
    assert sorted(components) == ["clean-lib", "demo-lib", "twin-lib"]
    assert await QualityMetric.filter(evidence_uid=uid, name="vulns.total").count() == 1

    # A plain cyclonedx-py SBOM is no scan: its findings summary is empty, it records no
    # vulns metrics, and the findings stay open, last seen by the audit.
    plain = await accepted(gql, "submitSbom", genuine.read("cyclonedx-1.6"))
    assert plain["findings"] == {"total": 0, "new": 0, "fixed": 0, "untracked": 0}
    assert not any(name.startswith(("vulns.", "findings.")) for name in values(plain))
    assert plain["evidence"]["data"]["vulnerabilities"] is None
    still = await open_findings()
    assert [row.id for row in still] == [row.id for row in found]
    assert {row.last_evidence_uid for row in still} == {uid}


async def test_sbom_scans_and_pip_audit_json_scans_keep_to_their_own_tool(gql, genuine):
    bom = genuine.read("pip-audit-cyclonedx")
    await accepted(gql, "submitSbom", bom)
    audit = await accepted(gql, "submitVulnerabilityReport", genuine.read("pip-audit"))
    # pip-audit's JSON is another tool's scan: it opens its own findings, closes none.
    assert audit["findings"] == {"total": 2, "new": 2, "fixed": 0, "untracked": 0}
    assert len(await open_findings("cyclonedx")) == 2
    assert len(await open_findings("pip-audit")) == 2

    again = await accepted(gql, "submitSbom", bom)
    assert again["findings"] == {"total": 2, "new": 0, "fixed": 0, "untracked": 0}
    # An empty array is a clean scan by the BOM's tool (it names none: "cyclonedx").
    clean = await accepted(gql, "submitSbom", without_vulnerabilities(bom))
    assert clean["findings"] == {"total": 0, "new": 0, "fixed": 2, "untracked": 0}
    assert values(clean)["vulns.total"] == 0
    assert await open_findings("cyclonedx") == []
    assert len(await open_findings("pip-audit")) == 2


STATUS = """query($project: String!, $framework: String!) {
  complianceStatus(project: $project, framework: $framework) {
    controls { controlId status evidenceIds checks { status detail evidenceIds } }
  }
}"""


async def vendor_risk(gql: Any) -> dict[str, Any]:
    """SOC 2 CC9.2: an SBOM within 90 days and `vulns.critical == 0` within 30."""
    body = await gql(STATUS, {"project": PROJECT, "framework": "soc2"})
    assert "errors" not in body, body
    controls = body["data"]["complianceStatus"]["controls"]
    return next(control for control in controls if control["controlId"] == "CC9.2")


async def test_the_vulns_family_is_dated_by_an_sbom_that_carried_vulnerabilities(
    app, gql, genuine
):
    plain = await accepted(gql, "submitSbom", genuine.read("cyclonedx-1.5"))
    # A value a plugin recorded (its metadata names no evidence type) is no scan either.
    project_id = (await Evidence.get(project__slug=PROJECT)).project_id
    await QualityMetric.create(project_id=project_id, name="vulns.total", value=0.0,
                               timestamp=datetime.now(UTC) - timedelta(days=1),
                               evidence_uid=uuid.uuid4(), metadata={"source": "plugin"})
    control = await vendor_risk(gql)
    vulns = control["checks"][1]
    assert vulns["status"] == "MISSING", control  # a plain SBOM scanned nothing
    assert "an sbom that recorded vulns.total" in vulns["detail"]

    audited = await accepted(gql, "submitSbom", genuine.read("pip-audit-cyclonedx"))
    audited_id = audited["evidence"]["id"]
    later_plain = await accepted(gql, "submitSbom", genuine.read("cyclonedx-1.6"))
    control = await vendor_risk(gql)
    assert control["status"] == "SATISFIED", control
    assert control["checks"][1]["evidenceIds"] == [audited_id]  # not the newer plain one
    assert control["checks"][0]["evidenceIds"] == [later_plain["evidence"]["id"]]
    assert plain["evidence"]["id"] not in control["evidenceIds"]

    writer = app.app.state.writer
    real_clock = writer.clock
    writer.clock = lambda: real_clock() + timedelta(days=40)
    try:
        control = await vendor_risk(gql)
    finally:
        writer.clock = real_clock
    assert control["checks"][1]["status"] == "STALE", control
    assert "the newest sbom is 40 days old" in control["checks"][1]["detail"]

    # A vulnerability report newer than the SBOM dates the count instead.
    report = await accepted(gql, "submitVulnerabilityReport", genuine.read("pip-audit"))
    control = await vendor_risk(gql)
    assert control["checks"][1]["evidenceIds"] == [report["evidence"]["id"]]


def hostile_bom(vulnerabilities: Any) -> str:
    return json.dumps({
        "bomFormat": "CycloneDX", "specVersion": "1.6",
        "components": [{"type": "library", "name": f"c{n}", "version": "1.0",
                        "purl": f"pkg:pypi/c{n}@1.0", "bom-ref": f"c{n}"} for n in range(60)],
        "vulnerabilities": vulnerabilities,
    })


async def nothing_stored() -> None:
    for model in (Evidence, Finding, QualityMetric, SbomComponent):
        assert await model.all().count() == 0, model


@pytest.mark.parametrize("malformed", [{"id": "CVE-2026-1"}, "CVE-2026-1", 7])
async def test_a_malformed_vulnerabilities_array_is_refused_and_writes_nothing(gql, malformed):
    payload = await submit(gql, "submitSbom", hostile_bom(malformed))
    assert payload["evidence"] is None and payload["metrics"] == []
    [error] = payload["errors"]
    assert error["field"] == "content"
    assert "vulnerabilities must be a JSON array" in error["message"]
    await nothing_stored()
    assert [job.status for job in await IngestionJob.all()] == ["failed"]


async def test_vulnerabilities_beyond_the_findings_limit_are_counted_not_stored(gql):
    junk: list[Any] = [1, "text", {"description": "no id"}]
    graded = [{"id": f"CVE-2026-{10_000 + n}", "ratings": [{"severity": "critical" if n < 5
                                                                else "low"}],
               "affects": [{"ref": f"c{n}"}]} for n in range(60)]
    payload = await accepted(gql, "submitSbom", hostile_bom(junk + graded))
    assert payload["findings"] == {"total": 60, "new": LIMIT, "fixed": 0, "untracked": 40}
    assert any("ARCOS_MAX_FINDINGS_PER_SCAN" in text for text in payload["warnings"])
    assert "skipped a vulnerability without an id" in payload["warnings"]
    measured = values(payload)
    assert measured["vulns.total"] == 60 and measured["vulns.critical"] == 5
    tracking = payload["evidence"]["data"]["vulnerabilities"]["tracking"]
    assert tracking == {"tracked": LIMIT, "beyond_limit": 40, "limit": LIMIT}
    stored = await open_findings()
    assert len(stored) == LIMIT
    assert sum(1 for row in stored if row.severity == "critical") == 5
    assert await SbomComponent.all().count() == 60


async def test_a_failure_while_storing_leaves_nothing_half_written(gql, genuine, monkeypatch):
    """Findings and metrics are written before the components: when the components fail,
    the findings and metrics go with them."""

    async def broken(*args: Any) -> int:
        raise RuntimeError("the store failed while writing components")

    monkeypatch.setattr(service, "record_components", broken)
    body = await gql(
        "mutation($input: ArtifactInput!) { submitSbom(input: $input) { jobId } }",
        {"input": {"content": genuine.read("pip-audit-cyclonedx").decode(), "project": PROJECT}},
    )
    assert body.get("errors"), body
    await nothing_stored()
