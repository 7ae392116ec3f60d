"""The `arcos:` block of a Solution: every key parsed, every mistake refused naming its field
and what to write, and the predicate read against what the rule names."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest

from arcos.assurance.rules import (
    EvidenceRule,
    Predicate,
    compile_predicate,
    parse_rule,
    rule_to_json,
)
from arcos.community.checks import ExpressionError
from arcos.problems import Problem, ProblemCode

PATH = "elements.Sn1.arcos"


def parsed(raw: Any) -> tuple[EvidenceRule | None, list[Problem]]:
    problems: list[Problem] = []
    return parse_rule(raw, PATH, problems), problems


def test_a_full_evidence_rule_parses_and_round_trips() -> None:
    raw = {"type": "test_results", "source": "junit", "project": "GitHub.com/Acme/App",
           "ref": "refs/heads/main", "predicate": "data.summary.failed == 0",
           "max_age_days": 30}
    rule, problems = parsed(raw)
    assert problems == []
    assert rule == EvidenceRule(type="test_results", source="junit",
                                project="github.com/acme/app", ref="refs/heads/main",
                                predicate="data.summary.failed == 0", max_age_days=30)
    assert rule_to_json(rule) == {**raw, "project": "github.com/acme/app"}
    assert list(rule_to_json(rule)) == ["type", "source", "project", "ref", "predicate",
                                        "max_age_days"]
    assert parsed(rule_to_json(rule))[0] == rule


def test_the_issue_example_parses() -> None:
    rule, problems = parsed({"project": "github.com/acme/app", "metric": "tests.pass_rate",
                             "predicate": ">= 0.95"})
    assert problems == [] and rule is not None
    assert rule.subject == "metric"
    assert compile_predicate(rule) == Predicate(">=", 0.95)


@pytest.mark.parametrize(("raw", "field", "says"), [
    ("metric: x", PATH, "mapping"),
    ({"type": "test_results", "typo": 1}, f"{PATH}.typo", "takes only"),
    ({"type": "Test Results"}, f"{PATH}.type", "not an evidence type"),
    ({"source": 5}, f"{PATH}.source", "not an evidence source"),
    ({"type": "x", "project": "not a slug"}, f"{PATH}.project", "github.com/owner/repo"),
    ({"type": "x", "ref": "a\nb"}, f"{PATH}.ref", "control characters"),
    ({"metric": "Coverage"}, f"{PATH}.metric", "not a metric name"),
    ({"type": "x", "max_age_days": 0}, f"{PATH}.max_age_days", "from 1 to 3650"),
    ({"type": "x", "max_age_days": 3651}, f"{PATH}.max_age_days", "from 1 to 3650"),
    ({"type": "x", "max_age_days": True}, f"{PATH}.max_age_days", "whole number"),
    ({"type": "x", "max_age_days": 1.5}, f"{PATH}.max_age_days", "whole number"),
    ({"evidence_ids": []}, f"{PATH}.evidence_ids", "1 to 32"),
    ({"evidence_ids": ["nope"]}, f"{PATH}.evidence_ids.0", "not an evidence id"),
    ({"evidence_ids": [7]}, f"{PATH}.evidence_ids.0", "not an evidence id"),
    ({"control": "sox:1"}, f"{PATH}.control", "built-in framework"),
    ({"control": "soc2:CC99"}, f"{PATH}.control", "CC8.1"),
    ({"metric": "tests.pass_rate", "predicate": 0.95}, f"{PATH}.predicate", "quoted in YAML"),
    ({}, PATH, "say what evidence"),
    ({"project": "github.com/a/b"}, PATH, "say what evidence"),
    ({"metric": "tests.pass_rate", "control": "soc2:CC8.1"}, f"{PATH}.control", "either"),
    ({"metric": "tests.pass_rate", "type": "x"}, f"{PATH}.type", "drop type"),
    ({"control": "soc2:CC8.1", "max_age_days": 3}, f"{PATH}.max_age_days", "own freshness"),
    ({"evidence_ids": [str(uuid.uuid4())], "source": "junit"}, f"{PATH}.source", "pinned"),
    # predicates: malformed for what the rule names
    ({"metric": "tests.pass_rate", "predicate": "0.95"}, f"{PATH}.predicate", "\">= 0.95\""),
    ({"metric": "tests.pass_rate", "predicate": ">= lots"}, f"{PATH}.predicate",
     "not a number"),
    ({"metric": "tests.pass_rate", "predicate": ">= inf"}, f"{PATH}.predicate", "finite"),
    ({"metric": "tests.pass_rate", "predicate": "coverage.line_rate >= 1"},
     f"{PATH}.predicate", "without a name"),
    ({"control": "soc2:CC8.1", "predicate": "== passing"}, f"{PATH}.predicate",
     "satisfied, failing, missing, stale"),
    ({"control": "soc2:CC8.1", "predicate": "> satisfied"}, f"{PATH}.predicate", "== <status>"),
    ({"type": "test_results", "predicate": "failed == 0"}, f"{PATH}.predicate",
     "path into the evidence data"),
    ({"type": "test_results", "predicate": "data.outcome > passed"}, f"{PATH}.predicate",
     "numbers only"),
    ({"type": "test_results", "predicate": "data.outcome == \"passed"}, f"{PATH}.predicate",
     "JSON string"),
    ({"type": "test_results", "predicate": "data.outcome == two words"}, f"{PATH}.predicate",
     "quoted string"),
])
def test_bad_blocks_are_refused_naming_the_field(raw: Any, field: str, says: str) -> None:
    rule, problems = parsed(raw)
    assert rule is None
    assert [problem.field for problem in problems] == [field], problems
    assert says in problems[0].message
    assert problems[0].code in (ProblemCode.INVALID, ProblemCode.REQUIRED)


def test_every_mistake_of_one_block_is_reported() -> None:
    rule, problems = parsed({"type": "X", "max_age_days": -1, "colour": "red"})
    assert rule is None
    assert sorted(str(problem.field) for problem in problems) == [
        f"{PATH}.colour", f"{PATH}.max_age_days", f"{PATH}.type"]


def test_pinned_ids_take_uuids_and_api_ids_once_each() -> None:
    uid = uuid.uuid4()
    global_id = base64.b64encode(f"Evidence:{uid}".encode()).decode()
    rule, problems = parsed({"evidence_ids": [str(uid).upper(), global_id],
                             "predicate": "data.passed == true"})
    assert problems == [] and rule is not None
    assert rule.evidence_ids == (str(uid),) and rule.subject == "pinned"
    other = base64.b64encode(f"Project:{uid}".encode()).decode()
    assert parsed({"evidence_ids": [other]})[1][0].field == f"{PATH}.evidence_ids.0"


def test_control_is_normalised_and_takes_a_status_predicate() -> None:
    rule, problems = parsed({"control": " SOC2:CC8.1", "predicate": "!= FAILING"})
    assert problems == [] and rule is not None
    assert rule.control == "soc2:CC8.1"
    predicate = compile_predicate(rule)
    assert predicate == Predicate("!=", "failing")
    assert predicate.holds("stale") and not predicate.holds("failing")


@pytest.mark.parametrize(("text", "data", "holds"), [
    ("data.failed == 0", {"failed": 0}, True),
    ("data.failed == 0", {"failed": 2}, False),
    ("data.failed == 0", {"failed": False}, False),  # a boolean is not the number 0
    ("data.failed == 0", {"failed": "0"}, False),
    ("data.failed == 0", {}, False),
    ("data.summary.rate >= 0.9", {"summary": {"rate": 0.95}}, True),
    ("data.summary.rate < 0.9", {"summary": {"rate": 0.95}}, False),
    ("data.suites.1.failures != 0", {"suites": [{"failures": 3}, {"failures": 0}]}, False),
    ("data.suites.2.failures != 0", {"suites": [{"failures": 3}]}, False),
    ("data.outcome == passed", {"outcome": "passed"}, True),
    ("data.outcome == \"all passed\"", {"outcome": "all passed"}, True),
    ("data.outcome != passed", {"outcome": "failed"}, True),
    ("data.signed == true", {"signed": True}, True),
    ("data.signed == true", {"signed": 1}, False),
    ("data.signed != false", {"signed": True}, True),
])
def test_data_predicates(text: str, data: object, holds: bool) -> None:
    rule, problems = parsed({"type": "test_results", "predicate": text})
    assert problems == [] and rule is not None
    predicate = compile_predicate(rule)
    assert predicate is not None
    found, value = predicate.find(data)
    assert (found and predicate.holds(value)) is holds


def test_metric_predicates_compare_numbers() -> None:
    rule = EvidenceRule(metric="findings.critical", predicate="findings.critical == 0")
    predicate = compile_predicate(rule)
    assert predicate is not None and predicate.holds(0) and not predicate.holds(1.0)
    with pytest.raises(ExpressionError):
        compile_predicate(EvidenceRule(metric="tests.pass_rate", predicate="== passed"))


def test_rule_to_json_leaves_out_what_is_unset() -> None:
    uid = str(uuid.uuid4())
    assert rule_to_json(EvidenceRule(evidence_ids=(uid,))) == {"evidence_ids": [uid]}
    assert rule_to_json(EvidenceRule(control="soc2:CC8.1")) == {"control": "soc2:CC8.1"}
