"""Vulnerability reports: genuine pip-audit and npm audit output (fixture advisory data from a
loopback stub), crafted OSV and CycloneDX VEX, alias merging and SCA fingerprints."""

import json

import pytest

from arcos.formats import cyclonedx, npm_audit, osv, pip_audit
from arcos.formats.errors import ArtifactRefused
from arcos.formats.vulnerabilities import (
    Advisory,
    canonical_id,
    component_key,
    fingerprint,
    merge,
    normalise_id,
)

pytest_plugins = ["format_artifacts"]


def _by_component(report):
    return {finding.component: finding for finding in report.findings}


def test_pip_audit_json(genuine):
    report = pip_audit.parse(genuine.read("pip-audit"))
    findings = _by_component(report)
    assert set(findings) == {"demo-lib", "twin-lib"}
    demo = findings["demo-lib"]
    assert demo.severity == "unknown"  # pip-audit has no severity: never guess
    assert demo.vulnerability_id == "CVE-2099-1001"  # CVE preferred over PYSEC
    assert demo.aliases == ("GHSA-vvvv-wwww-xxxx", "PYSEC-2099-1")
    assert demo.purl == "pkg:pypi/demo-lib@1.2.3"
    assert demo.fixed_versions == ("1.2.4",)
    assert demo.kind == "sca"
    assert demo.fingerprint == fingerprint("pkg:pypi/demo-lib@1.2.3", "CVE-2099-1001")
    # pip-audit merged the twin records itself; the CVE still wins
    assert findings["twin-lib"].vulnerability_id == "CVE-2099-2002"
    assert report.vulnerable_components == 2
    # url-lib could not be audited: the report is incomplete, not clean
    assert report.incomplete is True
    assert any("url-lib" in warning for warning in report.warnings)
    metrics = report.metrics()
    assert metrics["vulns.unknown"] == 2
    assert metrics["vulns.risk_score"] == 10
    assert metrics["vulns.fixable"] == 2


def test_pip_audit_cyclonedx_has_no_ratings_and_no_purls(genuine):
    report = cyclonedx.parse_vulnerabilities(genuine.read("pip-audit-cyclonedx"))
    findings = _by_component(report)
    assert set(findings) == {"demo-lib", "twin-lib"}
    assert {finding.severity for finding in report.findings} == {"unknown"}
    assert findings["demo-lib"].purl is None
    assert findings["demo-lib"].version == "1.2.3"
    assert report.vulnerable_components == 2


def test_npm_audit_v2(genuine):
    content = genuine.read("npm-audit")
    report = npm_audit.parse(content)
    findings = _by_component(report)
    # dep-a is listed by npm only because it depends on minimist (a string in `via`)
    assert set(findings) == {"minimist", "left-pad"}
    minimist = findings["minimist"]
    assert minimist.vulnerability_id == "GHSA-xvch-5gv4-984h"
    assert minimist.aliases == ("npm-advisory-1179",)
    assert minimist.severity == "critical"
    assert minimist.score == 9.8
    assert minimist.cwes == ("CWE-1321",)
    assert minimist.purl == "pkg:npm/minimist"
    assert minimist.version is None
    left_pad = findings["left-pad"]
    assert left_pad.severity == "medium"  # "moderate", no CVSS score
    assert left_pad.score is None
    assert report.vulnerable_components == 2
    # npm's metadata counts packages at their highest severity, dep-a included
    assert json.loads(content)["metadata"]["vulnerabilities"]["total"] == 3


def test_npm_audit_v1_is_refused_clearly(crafted):
    with pytest.raises(ArtifactRefused) as refused:
        npm_audit.parse((crafted / "npm_audit_v1.json").read_bytes())
    assert refused.value.status == 422
    assert "npm 7 or later" in refused.value.message


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"error": {"code": "ENOAUDIT", "summary": "audit endpoint returned an error"}},
         "audit endpoint returned an error"),
        ({"auditReportVersion": 3, "vulnerabilities": {}}, "not supported"),
        ({"vulnerabilities": {}}, "auditReportVersion is missing"),
    ],
)
def test_npm_audit_other_refusals(document, message):
    with pytest.raises(ArtifactRefused, match=message):
        npm_audit.from_document(document)


def test_osv_records_list(crafted):
    report = osv.parse((crafted / "osv_records.json").read_bytes())
    findings = {(f.component, f.vulnerability_id): f for f in report.findings}
    minimist = findings["minimist", "CVE-2021-44906"]
    assert minimist.severity == "critical"  # CVSS vector scored locally: 9.8
    assert minimist.score == pytest.approx(9.8)
    assert minimist.fixed_versions == ("0.2.4", "1.2.6")
    assert minimist.aliases == ("GHSA-xvch-5gv4-984h",)
    assert minimist.cwes == ("CWE-1321",)
    # PYSEC-2099-7 and its GHSA twin are one vulnerability for the PyPI package (whose
    # name is normalised: Demo_Lib == demo-lib)
    demo = [f for f in report.findings if f.purl and f.purl.startswith("pkg:pypi/demo")]
    assert len(demo) == 1
    assert demo[0].vulnerability_id == "GHSA-2222-3333-4444"
    assert demo[0].aliases == ("PYSEC-2099-7",)
    assert demo[0].severity == "high"  # worst of MODERATE (word) and CVSS v2 7.5
    assert demo[0].fixed_versions == ("2.0",)
    maven = findings["org.demo:demo-core", "GHSA-2222-3333-4444"]
    assert maven.purl == "pkg:maven/org.demo/demo-core"
    assert maven.severity == "medium"
    unscored = findings["thing", "OSV-2099-10"]
    assert unscored.severity == "unknown"
    assert unscored.purl is None
    assert all(f.vulnerability_id != "OSV-2099-9" for f in report.findings)  # withdrawn
    assert "ignored 1 withdrawn records" in report.warnings
    assert report.vulnerable_components == 4


def test_osv_single_record_and_api_response_forms(crafted):
    records = json.loads((crafted / "osv_records.json").read_text())
    single = osv.from_document(records[0])
    wrapped = osv.from_document({"vulns": [records[0]]})
    assert single.findings == wrapped.findings
    assert len(single.findings) == 1
    assert osv.from_document({}).findings == ()  # {} is a record without an id: skipped


def test_cyclonedx_vex(crafted):
    report = cyclonedx.parse_vulnerabilities((crafted / "cyclonedx_vex.json").read_bytes())
    findings = {(f.component, f.vulnerability_id): f for f in report.findings}
    jackson = findings["com.fasterxml.jackson.core/jackson-databind", "CVE-2099-0001"]
    assert jackson.severity == "critical"  # the scored rating beats the other's word
    assert jackson.aliases == ("GHSA-aaaa-bbbb-cccc",)  # merged through `references`
    assert jackson.cwes == ("CWE-502",)
    assert jackson.purl == "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.8?type=jar"
    lodash = findings["lodash", "CVE-2099-0002"]
    assert lodash.score == pytest.approx(7.5)  # vector without the CVSS: prefix, scored
    assert lodash.severity == "high"
    assert findings["lodash.merge", "CVE-2099-0002"].severity == "high"
    assert findings["lodash", "OSV-2099-5"].severity == "unknown"
    left_pad = findings["left-pad", "CVE-2099-0003"]
    assert left_pad.suppressed is True  # not_affected
    triage = findings["missing-ref", "CVE-2099-0004"]
    assert triage.suppressed is False  # in_triage does not suppress
    assert triage.severity == "medium"  # "moderate" beats "unknown"
    # jackson, lodash, lodash.merge and the unknown ref; left-pad is not_affected
    assert report.vulnerable_components == 4
    assert report.tool is not None and report.tool.name == "trivy"
    assert any("missing-ref" in warning for warning in report.warnings)
    assert any("without an id" in warning for warning in report.warnings)
    assert report.metrics()["vulns.suppressed"] == 1


def test_canonical_id_prefers_cve_then_ghsa():
    assert canonical_id(["PYSEC-1", "GHSA-aaaa-bbbb-cccc", "CVE-2020-2", "CVE-2020-1"]) == (
        "CVE-2020-1"
    )
    assert canonical_id(["PYSEC-1", "GHSA-aaaa-bbbb-cccc"]) == "GHSA-aaaa-bbbb-cccc"
    assert canonical_id(["PYSEC-1", "OSV-2"]) == "PYSEC-1"
    assert normalise_id(" cve-2020-1 ") == "CVE-2020-1"
    assert normalise_id("ghsa-AAAA-bbbb-CCCC") == "GHSA-aaaa-bbbb-cccc"


def _advisory(identifier, aliases=(), purl="pkg:pypi/lib@1.0", severity="unknown", **extra):
    return Advisory(
        tool="t", vulnerability_id=identifier, aliases=aliases, severity=severity, score=None,
        message=identifier, component="lib", version="1.0", purl=purl, **extra,
    )


def test_merge_is_transitive_and_per_component():
    findings = merge([
        _advisory("PYSEC-1", ("GHSA-aaaa-bbbb-cccc",), severity="low"),
        _advisory("OSV-9", ("CVE-2020-1",), severity="high", fixed_versions=("2.0",)),
        # bridges the two groups above
        _advisory("GHSA-aaaa-bbbb-cccc", ("CVE-2020-1",)),
        # same ids, another component: a separate finding
        _advisory("CVE-2020-1", purl="pkg:pypi/other@1.0"),
    ])
    assert len(findings) == 2
    merged = next(f for f in findings if f.purl == "pkg:pypi/lib@1.0")
    assert merged.vulnerability_id == "CVE-2020-1"
    assert merged.aliases == ("GHSA-aaaa-bbbb-cccc", "OSV-9", "PYSEC-1")
    assert merged.severity == "high"
    assert merged.fixed_versions == ("2.0",)


def test_merge_keeps_suppression_only_when_every_record_agrees():
    findings = merge([_advisory("CVE-1", suppressed=True), _advisory("CVE-1")])
    assert findings[0].suppressed is False


def test_fingerprint_ignores_purl_qualifiers_and_name_spelling():
    assert component_key("pkg:pypi/Demo_Lib@1.0?extra=x#sub", None, None) == (
        component_key("pkg:pypi/demo-lib@1.0", None, None)
    ) == "pkg:pypi/demo-lib@1.0"
    assert component_key(None, "Lib", "1.0") == "lib@1.0"
    assert component_key("not a purl?x=1", None, None) == "not a purl"
    first = merge([_advisory("CVE-1", purl="pkg:maven/g/a@1?type=jar")])[0]
    second = merge([_advisory("CVE-1", purl="pkg:maven/g/a@1?classifier=sources")])[0]
    assert first.fingerprint == second.fingerprint
