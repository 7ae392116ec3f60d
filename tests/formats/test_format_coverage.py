"""Coverage: genuine coverage.py XML/JSON/LCOV of one run agree with each other and with the
tool's own figures; Java Cobertura and multi-test LCOV quirks are handled."""

import json
import re

import pytest

from arcos.formats import cobertura, coverage_json, lcov
from arcos.formats.errors import ArtifactRefused

pytest_plugins = ["format_artifacts"]


def test_cobertura_line_rate_equals_the_root_attribute(genuine):
    content = genuine.read("cobertura")
    report = cobertura.parse(content)
    root = dict(re.findall(rb'(\S+?)="([^"]*)"', re.search(rb"<coverage [^>]*>", content).group(0)))
    assert report.line_rate == pytest.approx(float(root[b"line-rate"]), abs=5e-5)
    assert report.branch_rate == pytest.approx(float(root[b"branch-rate"]), abs=5e-5)
    assert report.lines_valid == int(root[b"lines-valid"])
    assert report.lines_covered == int(root[b"lines-covered"])
    assert report.branches_valid == int(root[b"branches-valid"])
    assert report.branches_covered == int(root[b"branches-covered"])
    assert report.tool is not None and report.tool.name == "coverage.py"
    assert [item.path for item in report.files] == ["samplepkg/__init__.py"]
    assert report.warnings == ()


def test_the_three_coverage_formats_of_one_run_agree(genuine):
    reports = [
        cobertura.parse(genuine.read("cobertura")),
        coverage_json.parse(genuine.read("coverage-json")),
        lcov.parse(genuine.read("lcov")),
    ]
    for field in ("lines_valid", "lines_covered", "branches_valid", "branches_covered"):
        assert len({getattr(report, field) for report in reports}) == 1, field
    assert 0 < reports[0].line_rate < 1
    assert 0 < reports[0].branch_rate < 1


def test_coverage_json_line_rate_is_not_percent_covered(genuine):
    content = genuine.read("coverage-json")
    totals = json.loads(content)["totals"]
    report = coverage_json.parse(content)
    assert report.line_rate == pytest.approx(totals["covered_lines"] / totals["num_statements"])
    assert report.line_rate == pytest.approx(totals["percent_statements_covered"] / 100)
    # with branch coverage on, percent_covered is the combined figure: kept as metadata only
    assert report.tool_percent_covered == pytest.approx(totals["percent_covered"])
    assert report.line_rate != pytest.approx(totals["percent_covered"] / 100)
    assert report.combined_rate == pytest.approx(totals["percent_covered"] / 100)
    assert report.function_rate is None


def test_lcov_function_rate(genuine):
    content = genuine.read("lcov").decode()
    report = lcov.parse(content.encode())
    functions_found = sum(int(n) for n in re.findall(r"^FNF:(\d+)$", content, re.MULTILINE))
    functions_hit = sum(int(n) for n in re.findall(r"^FNH:(\d+)$", content, re.MULTILINE))
    assert (report.functions_valid, report.functions_covered) == (functions_found, functions_hit)
    assert report.function_rate == pytest.approx(functions_hit / functions_found)
    assert report.warnings == ()


def test_java_cobertura_merges_classes_of_one_file_and_ignores_method_lines(crafted):
    report = cobertura.parse((crafted / "cobertura_java.xml").read_bytes())
    (calc,) = report.files
    assert calc.path == "demo/Calc.java"
    # lines 3, 5, 6 (hit by the inner class), 9
    assert (report.lines_valid, report.lines_covered) == (4, 3)
    assert (report.branches_valid, report.branches_covered) == (2, 1)
    assert report.tool is None
    assert any("root claims 9/10" in warning for warning in report.warnings)


def test_cobertura_summary_only_falls_back_to_root_attributes():
    report = cobertura.parse(
        b'<coverage lines-valid="10" lines-covered="7" branches-valid="0" branches-covered="0"/>'
    )
    assert report.line_rate == pytest.approx(0.7)
    assert report.branch_rate is None
    assert "no per-line data" in report.warnings[0]


def test_cobertura_impossible_totals_are_refused():
    with pytest.raises(ArtifactRefused):
        cobertura.parse(b'<coverage lines-valid="1" lines-covered="7"/>')


def test_lcov_merges_test_sections_and_uses_summaries_when_detail_is_missing(crafted):
    report = lcov.parse((crafted / "multi_test.lcov").read_bytes())
    files = {item.path: item for item in report.files}
    merged = files["src/a.c"]
    assert (merged.lines_valid, merged.lines_covered) == (3, 3)  # DA:10 hit in 'integration'
    assert (merged.branches_valid, merged.branches_covered) == (2, 2)
    assert (report.functions_valid, report.functions_covered) == (2, 2)
    summary = files["src/summary_only.c"]
    assert (summary.lines_valid, summary.lines_covered) == (10, 4)
    assert report.lines_valid == 13
    assert report.lines_covered == 7
    assert any("LF/LH" in warning for warning in report.warnings)


def test_lcov_tolerates_malformed_records_but_not_a_missing_section():
    report = lcov.parse(b"SF:x.c\nDA:notanumber,1\nDA:2,1.5e3\nXX:1\nend_of_record\n")
    assert (report.lines_valid, report.lines_covered) == (1, 1)
    assert len(report.warnings) == 2
    with pytest.raises(ArtifactRefused, match="outside an SF"):
        lcov.parse(b"DA:1,1\n")
    with pytest.raises(ArtifactRefused, match="no SF"):
        lcov.parse(b"TN:\n")


def test_coverage_json_recounts_files_when_totals_are_missing(genuine):
    document = json.loads(genuine.read("coverage-json"))
    expected = coverage_json.from_document(document)
    del document["totals"]
    recounted = coverage_json.from_document(document)
    assert (recounted.lines_valid, recounted.lines_covered) == (
        expected.lines_valid, expected.lines_covered,
    )
    assert recounted.tool_percent_covered is None


def test_empty_coverage_has_no_rates():
    report = coverage_json.from_document({"meta": {"format": 3}, "files": {}})
    assert report.line_rate is None
    assert report.metrics()["coverage.line_rate"] is None
