"""JUnit XML: genuine pytest (xunit1/xunit2) and Surefire reports, counts from the elements."""

import re

import pytest

from arcos.formats import junit
from arcos.formats.errors import ArtifactRefused

pytest_plugins = ["format_artifacts"]


def _totals(report):
    return {
        "total": report.total, "passed": report.passed, "failed": report.failed,
        "errored": report.errored, "skipped": report.skipped,
    }


@pytest.mark.parametrize("name", ["junit-xunit2", "junit-xunit1"])
def test_pytest_reports_match_pytests_own_summary(genuine, name):
    report = junit.parse(genuine.read(name))
    counts = genuine.pytest_counts()
    assert report.passed == counts["passed"]
    assert report.failed == counts["failed"]
    assert report.errored == counts["error"]
    assert report.skipped == counts["skipped"] + counts["xfailed"]  # JUnit has no xfail
    assert report.total == sum(counts.values())
    assert report.flaky == 0
    assert report.pass_rate == pytest.approx(3 / 5)
    assert report.tool is not None and report.tool.name == "pytest"
    assert report.duration_seconds is not None and report.duration_seconds >= 0
    assert report.warnings == ()


def test_pytest_reports_match_the_sample_suite_we_wrote(genuine):
    expected = {"total": 7, "passed": 3, "failed": 1, "errored": 1, "skipped": 2}
    assert _totals(junit.parse(genuine.read("junit-xunit2"))) == expected


def test_xunit1_adds_files_and_xunit2_does_not(genuine):
    xunit1 = junit.parse(genuine.read("junit-xunit1"))
    xunit2 = junit.parse(genuine.read("junit-xunit2"))
    assert {case.file for case in xunit1.cases} == {"tests/test_sample.py"}
    assert {case.file for case in xunit2.cases} == {None}


def test_case_details(genuine):
    cases = {case.name: case for case in junit.parse(genuine.read("junit-xunit2")).cases}
    assert cases["test_fails"].outcome == "failed"
    assert "assert 4 == 5" in cases["test_fails"].message
    assert cases["test_errors"].outcome == "errored"
    assert "fixture broke" in cases["test_errors"].message
    assert cases["test_skipped"].message == "not today"
    assert cases["test_xfail"].outcome == "skipped"
    assert cases["test_sign[5-1]"].outcome == "passed"
    assert cases["test_add"].classname == "tests.test_sample"
    assert cases["test_add"].duration_seconds is not None


def test_surefire_reruns_and_flakes_match_surefires_summary(genuine):
    content = genuine.read("surefire")
    report = junit.parse(content)
    assert _totals(report) | {"flaky": report.flaky} == {
        "total": 5, "passed": 1, "failed": 1, "errored": 1, "skipped": 1, "flaky": 1,
    }
    # Surefire's own console line agrees with the recount…
    summary = re.search(
        r"Tests run: (\d+), Failures: (\d+), Errors: (\d+), Skipped: (\d+), Flakes: (\d+)",
        genuine.outputs["surefire"],
    )
    assert summary is not None
    assert tuple(map(int, summary.groups())) == (5, 1, 1, 1, 1)
    # …while the XML header does not (the documented pitfall): never trust it
    header = re.search(rb'<testsuite [^>]*tests="(\d+)"', content)
    assert header is not None and int(header.group(1)) != report.total
    assert report.tool is not None and report.tool.name == "maven-surefire"
    cases = {case.name: case for case in report.cases}
    assert cases["flaky"].outcome == "flaky"
    assert cases["fails"].outcome == "failed"
    assert cases["errors"].outcome == "errored"
    assert cases["adds"].classname == "demo.CalcTest"
    assert report.pass_rate == pytest.approx(1 / 4)


def test_repeated_entries_fold_and_bad_times_warn(crafted):
    report = junit.parse((crafted / "junit_reruns.xml").read_bytes())
    cases = {case.name: case for case in report.cases}
    assert report.total == 5  # not the header's 99
    assert cases["sometimes"].outcome == "flaky"  # failed, then passed
    assert cases["sometimes"].message == "timeout"
    assert cases["always"].outcome == "failed"
    assert cases["always"].message == "boom again"
    assert cases["inherits-suite-name"].classname == "nested"
    assert cases["skipped"].outcome == "skipped"
    assert report.duration_seconds == pytest.approx(1234.5)
    assert any("merged" in warning for warning in report.warnings)
    assert any("unreadable time" in warning for warning in report.warnings)
    assert any("impossible time" in warning for warning in report.warnings)


def test_decimal_comma_times():
    report = junit.parse(b'<testsuite><testcase classname="a" name="b" time="0,5"/></testsuite>')
    assert report.cases[0].duration_seconds == 0.5
    assert report.duration_seconds == 0.5  # falls back to the cases' sum


@pytest.mark.parametrize(
    "content", [b"<testsuites/>", b'<testsuite name="empty" tests="3" failures="1"/>']
)
def test_empty_suites(content):
    report = junit.parse(content)
    assert report.total == 0
    assert report.pass_rate is None
    assert report.metrics()["tests.total"] == 0
    assert "no testcase" in report.warnings[0]


def test_missing_optional_fields():
    report = junit.parse(b"<testsuite><testcase/><testcase name='x'><error/></testcase></testsuite>")
    assert [case.outcome for case in report.cases] == ["passed", "errored"]
    assert report.cases[0].name == "<unnamed>"
    assert report.cases[0].classname == ""
    assert report.cases[1].message is None
    assert report.duration_seconds is None


def test_all_skipped_has_no_pass_rate():
    report = junit.parse(b"<testsuite><testcase name='a'><skipped/></testcase></testsuite>")
    assert report.pass_rate is None


def test_metrics_names(genuine):
    metrics = junit.parse(genuine.read("junit-xunit2")).metrics()
    assert metrics["tests.total"] == 7
    assert metrics["tests.errored"] == 1
    assert set(metrics) == {
        "tests.total", "tests.passed", "tests.failed", "tests.errored", "tests.skipped",
        "tests.flaky", "tests.pass_rate", "tests.duration_seconds",
    }


def test_not_junit_is_refused():
    with pytest.raises(ArtifactRefused):
        junit.parse(b'{"json": true}')
