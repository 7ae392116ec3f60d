"""The built-in content is complete: eight industries with standards, requirements, expected
evidence and a well-formed eight-node GSN skeleton; eight frameworks whose every control
has its identifier, a title, checks over ARCOS data and a checklist question."""

from __future__ import annotations

import pytest

from arcos.community.checks import CHECK_KINDS, parse_checks
from arcos.community.compliance_content import BY_KEY as FRAMEWORKS_BY_KEY
from arcos.community.compliance_content import FRAMEWORKS
from arcos.community.evidence_codes import EVIDENCE_TYPES, EvidenceCode
from arcos.community.gsn import NodeType, check_argument
from arcos.community.industry_content import INDUSTRIES
from arcos.intake.service import EVIDENCE_TYPES as INTAKE_TYPES
from arcos.problems import Problem

INDUSTRY_KEYS = ["healthcare", "finance", "automotive", "aerospace", "industrial-control",
                 "retail", "education", "government"]
FRAMEWORK_KEYS = ["soc2", "pci-dss", "hipaa", "iso27001", "gdpr", "nist-800-53",
                  "cis-controls", "fedramp"]
#: Identifiers the reference names, a few per framework.
EXPECTED_IDS = {
    "soc2": {"CC6.1", "CC6.6", "CC6.8", "CC7.1", "CC8.1", "CC9.2"},
    "pci-dss": {"6.2.1", "6.2.3", "6.2.3.1", "6.2.4", "6.3.1", "6.3.2", "6.3.3", "6.4.3",
                "6.5.1", "6.5.3", "6.5.4", "11.3.1", "11.3.2"},
    "hipaa": {"164.308(a)(1)(ii)(A)", "164.308(a)(1)(ii)(B)", "164.308(a)(5)(ii)(B)",
              "164.308(a)(8)", "164.312(a)(1)", "164.312(b)", "164.312(c)(1)", "164.312(d)",
              "164.312(e)(1)"},
    "iso27001": {"A.8.8", "A.8.9", "A.8.25", "A.8.26", "A.8.28", "A.8.29", "A.8.31", "A.8.32"},
    "gdpr": {"Art. 5(1)(f)", "Art. 25", "Art. 28", "Art. 32", "Art. 33", "Art. 35"},
    "nist-800-53": {"SA-11", "SA-10", "SA-15", "SI-2", "RA-5", "CM-3", "CM-8", "SI-7", "PO.3",
                    "PS.1", "PS.2", "PS.3", "PW.4", "PW.7", "PW.8", "RV.1", "RV.2", "RV.3"},
    "cis-controls": {"16.1", "16.2", "16.4", "16.6", "16.8", "16.12", "16.13", "16.14"},
    "fedramp": {"RA-5", "SI-2", "CA-8", "CM-8", "CM-3", "SA-10", "SA-11", "SA-15", "SI-7",
                "SR-3", "SR-11"},
}


def test_eight_industries_and_eight_frameworks() -> None:
    assert [industry.key for industry in INDUSTRIES] == INDUSTRY_KEYS
    assert [framework.key for framework in FRAMEWORKS] == FRAMEWORK_KEYS


@pytest.mark.parametrize("industry", INDUSTRIES, ids=lambda i: i.key)
def test_industry_is_complete_and_its_skeleton_well_formed(industry) -> None:
    assert industry.name and industry.description
    assert len(industry.standards) >= 2 and all(s.name and s.note for s in industry.standards)
    assert len(industry.requirements) >= 3
    assert industry.evidence_types
    assert all(key in FRAMEWORKS_BY_KEY for key in industry.frameworks)
    checked = check_argument(industry.argument, "argument")
    assert checked.problems == [] and checked.open_items == []
    nodes = {node.id: node for node in industry.argument}
    assert list(nodes) == ["G1", "C1", "S1", "G2", "G3", "Sn1", "Sn2", "Sn3"]
    assert [nodes[i].type for i in nodes] == [
        NodeType.GOAL, NodeType.CONTEXT, NodeType.STRATEGY, NodeType.GOAL, NodeType.GOAL,
        NodeType.SOLUTION, NodeType.SOLUTION, NodeType.SOLUTION]
    assert nodes["G1"].supported_by == ("S1",) and nodes["G1"].in_context_of == ("C1",)
    assert nodes["S1"].supported_by == ("G2", "G3")
    assert nodes["G2"].supported_by == ("Sn1", "Sn2") and nodes["G3"].supported_by == ("Sn3",)
    assert all(nodes[s].evidence_types for s in ("Sn1", "Sn2", "Sn3"))
    assert all(node.text for node in industry.argument)


@pytest.mark.parametrize("framework", FRAMEWORKS, ids=lambda f: f.key)
def test_every_control_has_id_title_checks_and_checklist(framework) -> None:
    assert framework.name and framework.version and framework.description
    ids = [control.id for control in framework.controls]
    assert len(ids) == len(set(ids))
    assert set(ids) == EXPECTED_IDS[framework.key]
    for control in framework.controls:
        assert control.title and control.checklist.endswith("?"), control.id
        assert control.codes and control.checks, control.id
        assert all(check.kind in CHECK_KINDS and 0 < check.days <= 3650
                   for check in control.checks), control.id
        # Every built-in check survives the JSON round trip custom templates take.
        problems: list[Problem] = []
        again = parse_checks([check.to_json() for check in control.checks], "checks", problems)
        assert problems == [] and again == control.checks, control.id


def test_evidence_codes_map_to_types_arcos_produces() -> None:
    produced = set(INTAKE_TYPES.values()) | {
        "commit", "pull_request", "code_review", "deployment", "release", "build"}
    for code in (EvidenceCode.TR, EvidenceCode.COV, EvidenceCode.SAST, EvidenceCode.SCA,
                 EvidenceCode.CR, EvidenceCode.DEP):
        assert set(EVIDENCE_TYPES[code]) <= produced, code
    assert EVIDENCE_TYPES[EvidenceCode.TR] == ("test_results",)
    assert EVIDENCE_TYPES[EvidenceCode.COV] == ("test_coverage",)
    assert EVIDENCE_TYPES[EvidenceCode.SAST] == ("security_scan",)


def test_metric_checks_name_metrics_arcos_derives() -> None:
    derived = {"tests.pass_rate", "coverage.line_rate", "findings.critical", "findings.high",
               "vulns.critical", "vulns.high"}
    named = {check.metric for framework in FRAMEWORKS for control in framework.controls
             for check in control.checks if check.kind == "metric"}
    assert named and named <= derived, named - derived
