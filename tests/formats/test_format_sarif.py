"""SARIF: genuine ruff and Bandit logs (counts, paths, severities, stable fingerprints) and the
quirks of other producers (Semgrep-style, unknown levels, suppressions, limits)."""

import json

import pytest

from arcos.formats import sarif
from arcos.formats.errors import ArtifactRefused
from arcos.formats.parse import Limits, parse

pytest_plugins = ["format_artifacts"]


def test_ruff_findings_match_ruffs_own_json_output(genuine):
    report = sarif.parse(genuine.read("ruff"), source_root=str(genuine.project))
    ruff_json = json.loads(genuine.outputs["ruff-json"])
    assert len(report.findings) == len(ruff_json) > 10
    assert sorted(finding.rule_id for finding in report.findings) == sorted(
        item["code"] for item in ruff_json
    )
    assert {finding.severity for finding in report.findings} == {"high"}  # ruff writes level "error"
    assert {finding.path for finding in report.findings} == {
        "samplepkg/__init__.py", "tests/test_sample.py",
    }
    assert report.tools[0].name == "ruff"
    assert report.tools[0].version
    assert len({finding.fingerprint for finding in report.findings}) == len(report.findings)
    assert report.warnings == ()


def test_ruff_without_source_root_keeps_absolute_paths_and_says_so(genuine):
    report = sarif.parse(genuine.read("ruff"))
    assert all(finding.path.startswith("/") for finding in report.findings)
    assert any("source_root" in warning for warning in report.warnings)


def test_fingerprints_survive_a_different_checkout_directory(genuine):
    here = sarif.parse(genuine.read("ruff"), source_root=str(genuine.project))
    there = sarif.parse(
        genuine.read("ruff-moved"), source_root=str(genuine.root / "other-checkout")
    )
    assert {f.fingerprint for f in here.findings} == {f.fingerprint for f in there.findings}


def test_bandit_findings_match_bandits_json(genuine):
    report = sarif.parse(genuine.read("bandit"))
    bandit_json = json.loads(genuine.outputs["bandit-json"])["results"]
    assert len(report.findings) == len(bandit_json) == 2
    by_rule = {finding.rule_id: finding for finding in report.findings}
    assert by_rule["B602"].severity == "high"  # HIGH → error → high
    assert by_rule["B404"].severity == "info"  # LOW → note → info
    assert by_rule["B602"].cwes == ("CWE-78",)
    assert by_rule["B602"].path == "samplepkg/__init__.py"
    assert by_rule["B602"].line == 18
    assert by_rule["B602"].category == "bandit"
    assert report.tools[0].name == "Bandit"


def test_bandit_fingerprints_do_not_depend_on_line_numbers(genuine):
    before = {f.rule_id: f for f in sarif.parse(genuine.read("bandit")).findings}
    after = {f.rule_id: f for f in sarif.parse(genuine.read("bandit-shifted")).findings}
    assert before.keys() == after.keys()
    for rule_id, finding in before.items():
        assert after[rule_id].line == finding.line + 2
        assert after[rule_id].fingerprint == finding.fingerprint


def _by_message(report):
    return {finding.message: finding for finding in report.findings}


def test_crafted_semgrep_style_log(crafted):
    report = sarif.parse((crafted / "sarif_semgrep_like.sarif").read_bytes())
    assert len(report.findings) == 6
    findings = _by_message(report)
    shell = [f for f in report.findings if f.rule_id == "rules.python-shell"]
    # security-severity 9.1 beats the level; no result level → rule default
    assert {f.severity for f in shell} == {"critical"}
    assert {f.score for f in shell} == {9.1}
    assert shell[0].cwes == ("CWE-78",)
    assert shell[0].path == "src/run.py"  # relative to %SRCROOT%
    # the "requires login" placeholder is ignored: the two findings stay distinct
    assert shell[0].fingerprint != shell[1].fingerprint
    assert [f.suppressed for f in shell] == [False, True]
    assert shell[0].category == "semgrep/python"
    # security-severity 0.0 is "no security severity": the rule's note level decides
    printed = findings["print call"]
    assert printed.severity == "info"
    assert printed.score is None
    assert printed.suppressed is False  # the suppression was rejected
    assert printed.path == "src/cli tool.py"  # absolute file URI under the SRCROOT base
    # unknown level "fatal" → warning → medium; but security-severity 5.5 → medium anyway
    templated = findings["call to eval with user input"]
    assert templated.rule_id == "rules.templated"  # via ruleIndex
    assert templated.severity == "medium"
    assert templated.cwes == ("CWE-79",)
    assert templated.path == "C:/build/app/src/win.py"
    unknown = findings["a rule the driver does not list"]
    assert unknown.severity == "medium"  # no level anywhere → warning
    assert unknown.cwes == ("CWE-89",)
    assert unknown.path is None and unknown.line is None
    second = findings["from a second run"]
    assert second.tool == "second"
    assert second.category == "second"
    assert [tool.name for tool in report.tools] == ["Semgrep OSS", "second"]
    assert report.tools[0].version == "1.185.0"
    warnings = " | ".join(report.warnings)
    assert "unknown SARIF level 'fatal'" in warnings
    assert "kind 'pass'" in warnings
    assert "baselineState" in warnings
    assert "not a JSON object" in warnings


def test_primary_location_line_hash_is_the_content_fingerprint():
    def log(line, line_hash):
        return {
            "version": "2.1.0",
            "runs": [{"tool": {"driver": {"name": "CodeQL"}}, "results": [{
                "ruleId": "py/sql-injection", "message": {"text": "m"},
                "partialFingerprints": {"primaryLocationLineHash": line_hash},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": "app.py"}, "region": {"startLine": line}}}],
            }]}],
        }

    moved = sarif.from_document(log(10, "abc:1")).findings[0]
    same = sarif.from_document(log(99, "abc:1")).findings[0]
    changed = sarif.from_document(log(10, "def:1")).findings[0]
    assert moved.fingerprint == same.fingerprint != changed.fingerprint


def test_too_many_runs_is_a_413():
    document = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "t"}}}] * 3}
    with pytest.raises(ArtifactRefused) as refused:
        parse(json.dumps(document).encode(), limits=Limits(max_sarif_runs=2))
    assert refused.value.status == 413
    assert "3 runs" in refused.value.message


def test_too_many_results_in_a_run_is_a_413(genuine):
    with pytest.raises(ArtifactRefused) as refused:
        parse(genuine.read("ruff"), limits=Limits(max_results_per_run=5))
    assert refused.value.status == 413
    assert "at most 5 are accepted per run" in refused.value.message


def test_at_the_limit_is_accepted(genuine):
    count = len(sarif.parse(genuine.read("bandit")).findings)
    report = parse(genuine.read("bandit"), limits=Limits(max_results_per_run=count))
    assert len(report.findings) == count


@pytest.mark.parametrize(
    ("document", "status"),
    [
        ({"version": "1.0.0", "runs": []}, 422),
        ({"version": "2.1.0"}, 422),
        ({"version": "2.1.0", "runs": "x"}, 422),
        ({"version": "2.1.0", "runs": [{"results": []}]}, 422),
        ({"version": "2.1.0", "runs": [{"tool": {"driver": {}}, "results": {"a": 1}}]}, 422),
    ],
)
def test_structural_errors_are_422(document, status):
    with pytest.raises(ArtifactRefused) as refused:
        sarif.from_document(document)
    assert refused.value.status == status


def test_empty_run_and_missing_optional_fields():
    report = sarif.from_document({"runs": [{"tool": {"driver": {"name": "t"}}, "results": [{}]}]})
    (finding,) = report.findings
    assert finding.rule_id == "unknown-rule"
    assert finding.severity == "medium"
    assert finding.message == "unknown-rule"
    assert any("not 2.1.0" in warning for warning in report.warnings)


def test_metrics_count_only_unsuppressed(crafted):
    metrics = sarif.parse((crafted / "sarif_semgrep_like.sarif").read_bytes()).metrics()
    assert metrics["findings.total"] == 5
    assert metrics["findings.suppressed"] == 1
    assert metrics["findings.critical"] == 1


def _one_result(result, rules=()):
    document = {"version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "t", "rules": list(rules)}}, "results": [result],
    }]}
    (finding,) = sarif.from_document(document).findings
    return finding


@pytest.mark.parametrize(
    ("line", "read_as"),
    [(7, 7), (2**53, 2**53), (2**53 + 1, 2**53), (10**400, None), (0, None), (-3, None),
     (7.0, 7), ("7", 7), (True, None)],
    ids=["int", "2**53", "2**53+1", "10**400", "zero", "negative", "float", "string", "bool"],
)
def test_a_start_line_is_read_as_any_json_integer_is(line, read_as):
    """Plain ints skip the float round trip; one a float cannot hold exactly still takes
    it (2**53 + 1 reads as 2**53, 10**400 as nothing), as every other integer field does."""
    finding = _one_result({"ruleId": "r", "locations": [{"physicalLocation": {
        "artifactLocation": {"uri": "a.py"}, "region": {"startLine": line}}}]})
    assert finding.line == read_as


def test_each_result_takes_its_own_rules_defaults():
    """A rule's level, score and tags are worked out once per rule, never carried over to
    another rule's results."""
    rules = [
        {"id": "loud", "defaultConfiguration": {"level": "error"},
         "properties": {"security-severity": "9.5", "tags": ["external/cwe/cwe-78"]}},
        {"id": "quiet", "defaultConfiguration": {"level": "note"}},
    ]
    document = {"version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "t", "rules": rules}},
        "results": [{"ruleId": name, "message": {"text": f"{name} {n}"}}
                    for n in range(3) for name in ("loud", "quiet")],
    }]}
    findings = sarif.from_document(document).findings
    assert {(f.rule_id, f.severity, f.cwes, f.score) for f in findings} == {
        ("loud", "critical", ("CWE-78",), 9.5), ("quiet", "info", (), None),
    }
