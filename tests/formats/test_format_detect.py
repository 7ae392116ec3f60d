"""Format detection: every genuine artifact is recognised by content; hints win when valid."""

import json

import pytest

from arcos.formats.detect import FORMATS, detect
from arcos.formats.errors import ArtifactRefused
from arcos.formats.parse import parse
from arcos.formats.results import CoverageReport, Sbom, TestReport, VulnerabilityReport

pytest_plugins = ["format_artifacts"]

GENUINE_FORMATS = {
    "junit-xunit2": "junit", "junit-xunit1": "junit", "surefire": "junit",
    "cobertura": "cobertura", "coverage-json": "coverage-json", "lcov": "lcov",
    "ruff": "sarif", "bandit": "sarif",
    "cyclonedx-1.4": "cyclonedx", "cyclonedx-1.5": "cyclonedx", "cyclonedx-1.6": "cyclonedx",
    "npm-cyclonedx": "cyclonedx", "pip-audit-cyclonedx": "cyclonedx",
    "npm-spdx": "spdx", "npm-audit": "npm-audit", "pip-audit": "pip-audit",
}
CRAFTED_FORMATS = {
    "junit_reruns.xml": "junit", "cobertura_java.xml": "cobertura", "multi_test.lcov": "lcov",
    "sarif_semgrep_like.sarif": "sarif", "cyclonedx_vex.json": "cyclonedx",
    "osv_records.json": "osv", "npm_audit_v1.json": "npm-audit", "build_deploy.json": "build",
}


@pytest.mark.parametrize(("name", "expected"), sorted(GENUINE_FORMATS.items()))
def test_genuine_artifacts_are_detected(genuine, name, expected):
    assert detect(genuine.read(name)) == expected


@pytest.mark.parametrize(("name", "expected"), sorted(CRAFTED_FORMATS.items()))
def test_crafted_artifacts_are_detected(crafted, name, expected):
    assert detect((crafted / name).read_bytes()) == expected


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"id": "OSV-1", "modified": "2026-01-01T00:00:00Z", "affected": []}, "osv"),
        ({"vulns": []}, "osv"),
        ({"status": "running", "pipeline_id": "7"}, "build"),
        ({"meta": {"format": 3}, "totals": {}}, "coverage-json"),
        ({"version": "2.1.0", "runs": []}, "sarif"),
    ],
)
def test_json_shapes(document, expected):
    assert detect(json.dumps(document).encode()) == expected


def test_a_bom_and_whitespace_before_the_content_are_tolerated(genuine):
    assert detect(b"\xef\xbb\xbf\n  " + genuine.read("cobertura")) == "cobertura"
    assert detect("\ufeff".encode("utf-16-le") + '<testsuite/>'.encode("utf-16-le")) == "junit"


def test_explicit_format_and_specific_content_types_are_used():
    assert detect(b"TN:\nSF:a.c\nend_of_record\n", "LCOV") == "lcov"
    assert detect(b'{"version":"2.1.0","runs":[]}', "application/sarif+json; charset=utf-8") == (
        "sarif"
    )
    # generic content types name no format: the content decides
    assert detect(b"<coverage/>", "application/xml") == "cobertura"
    assert detect(b'{"vulns":[]}', "application/json") == "osv"


def test_unknown_explicit_format_lists_the_valid_ones():
    with pytest.raises(ArtifactRefused) as refused:
        detect(b"<testsuite/>", "nunit")
    assert refused.value.status == 422
    assert all(name in refused.value.message for name in FORMATS)


def test_hint_that_contradicts_the_content_is_refused(genuine):
    with pytest.raises(ArtifactRefused, match="sent as junit but its content looks like sarif"):
        detect(genuine.read("ruff"), "junit")


@pytest.mark.parametrize(
    "content",
    [b"hello world", b"<html><body/></html>", b'{"some": "json"}', b"[1, 2]", b"42"],
)
def test_unrecognisable_content_names_the_accepted_formats(content):
    with pytest.raises(ArtifactRefused) as refused:
        detect(content)
    assert refused.value.status == 422
    assert "accepted formats are" in refused.value.message


def test_unsupported_siblings_get_a_specific_message():
    with pytest.raises(ArtifactRefused, match="CycloneDX XML is not accepted"):
        detect(b'<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.5"/>')
    with pytest.raises(ArtifactRefused, match="only SPDX JSON"):
        detect(b"SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\n")


def test_kind_restricts_what_an_upload_accepts(genuine, ingest_limits):
    with pytest.raises(ArtifactRefused) as refused:
        parse(genuine.read("junit-xunit2"), kind="sbom", limits=ingest_limits)
    assert refused.value.status == 422
    assert "cyclonedx, spdx" in refused.value.message
    assert isinstance(parse(genuine.read("lcov"), kind="coverage_report", limits=ingest_limits),
                      CoverageReport)
    assert isinstance(parse(genuine.read("junit-xunit1"), kind="test_report", limits=ingest_limits),
                      TestReport)


def test_cyclonedx_kind_selects_sbom_or_vulnerabilities(genuine, crafted, ingest_limits):
    vex = (crafted / "cyclonedx_vex.json").read_bytes()
    assert isinstance(parse(vex, limits=ingest_limits), VulnerabilityReport)  # has vulnerabilities
    assert isinstance(parse(vex, kind="sbom", limits=ingest_limits), Sbom)
    sbom = genuine.read("cyclonedx-1.6")
    assert isinstance(parse(sbom, limits=ingest_limits), Sbom)
    empty = parse(sbom, kind="vulnerability_report", limits=ingest_limits)
    assert isinstance(empty, VulnerabilityReport)
    assert empty.findings == ()


def test_a_json_format_given_xml_content_is_refused_clearly(genuine, ingest_limits):
    with pytest.raises(ArtifactRefused) as refused:
        parse(genuine.read("cobertura"), format="sarif", limits=ingest_limits)
    assert refused.value.status == 422


def test_unknown_kind_is_a_programming_error(ingest_limits):
    with pytest.raises(ValueError, match="unknown kind"):
        parse(b"<testsuite/>", kind="tests", limits=ingest_limits)
