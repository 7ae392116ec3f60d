"""Well-formedness of assurance cases, rule by rule: each rule with an argument that breaks
it and one that keeps it, the severity it carries (an error refuses a case, an incomplete
case may be saved, a warning is advice) and a compiler-style line naming rule and elements."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from arcos.community.gsn import Checked, Module, Severity, check_argument, parse_argument

CASE: list[dict[str, Any]] = [
    {"id": "G1", "type": "goal", "text": "The release is acceptably secure.",
     "supportedBy": ["S1"], "inContextOf": ["C1"]},
    {"id": "C1", "type": "context", "text": "Release 1.0."},
    {"id": "S1", "type": "strategy", "text": "Argue over testing and scanning.",
     "supportedBy": ["G2", "G7"]},
    {"id": "G2", "type": "goal", "text": "Tests pass.", "supportedBy": ["Sn1"], "public": True},
    {"id": "G7", "type": "away_goal", "text": "Platform is hardened.", "module": "case-b"},
    {"id": "Sn1", "type": "solution", "text": "JUnit results.",
     "arcos": {"metric": "tests.pass_rate", "predicate": ">= 0.95"}},
]
#: case-b holds the public goal G7 the away goal stands for; case-d uses Sn1 too, but this
#: case does not refer to it, so the ids do not clash.
MODULES = {"case-b": Module(frozenset({"G7"}), frozenset({"B1", "G7", "SnB"})),
           "case-d": Module(frozenset(), frozenset({"G1", "Sn1"}))}


def check(nodes: list[dict[str, Any]]) -> Checked:
    shape: list[Any] = []
    parsed = parse_argument(nodes, "elements", shape)
    assert shape == []
    return check_argument(parsed, "elements", MODULES, advise=True)


def changed(**edits: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = copy.deepcopy(CASE)
    for node in nodes:
        node.update(edits.get(node["id"], {}))
    return nodes


def test_a_well_formed_case_has_no_violations() -> None:
    checked = check(CASE)
    assert checked.violations == [] and checked.complete


@pytest.mark.parametrize("rule", [1, 2, 3, 4, 5, 6])
def test_each_rule_passes_the_good_case(rule: int) -> None:
    assert [v for v in check(CASE).violations if v.rule == rule] == []


@pytest.mark.parametrize(("nodes", "rule", "elements", "needle"), [
    ([*CASE, {"id": "G9", "type": "goal", "text": "Second top.", "undeveloped": True}],
     1, ("G1", "G9"), "2 roots (G1, G9)"),
    ([n for n in CASE if n["id"] not in ("G1", "C1")], 1, ("S1",), "the root must be a goal"),
    ([*CASE, {"id": "G5", "type": "goal", "text": "a", "supportedBy": ["G6"]},
      {"id": "G6", "type": "goal", "text": "b", "supportedBy": ["G5"]}],
     2, ("G5",), "G5 cannot be reached from the root G1"),
    (changed(G2={"supportedBy": ["Sn1", "S1"]}), 3, ("S1", "G2"),
     "SupportedBy cycle S1 → G2 → S1"),
    (changed(G2={"supportedBy": ["Sn1", "G2"]}), 3, ("G2", "G2"), "refers to itself"),
    (changed(G2={"supportedBy": ["Sn1", "Sn1"]}), 3, ("G2", "Sn1"), "lists Sn1 twice"),
    (changed(Sn1={"supportedBy": ["C1"]}), 4, ("Sn1", "C1"), "a solution is a leaf"),
    (changed(S1={"supportedBy": ["G2", "G7", "Sn1"]}), 4, ("S1", "Sn1"),
     "put a goal between them"),
    (changed(G2={"undeveloped": True}), 5, ("G2",), "marked undeveloped but has"),
    (changed(G2={"supportedBy": ["Sn1", "Sn7"]}), 6, ("G2", "Sn7"), "not a node of this argument"),
    (changed(G7={"module": "case-c"}), 6, ("G7", "case-c"), "does not know"),
    (changed(G7={"id": "G8"}, S1={"supportedBy": ["G2", "G8"]}), 6, ("G8", "case-b"),
     "not a public goal of case case-b (its public goals: G7)"),
    (changed(C1={"public": True}), 6, ("C1",), "only goals can be public"),
    (changed(Sn1={"id": "SnB"}, G2={"supportedBy": ["SnB"]}), 6, ("SnB", "case-b"),
     "SnB is also an id in case case-b, which this case refers to"),
    (changed(G1={"id": "B1"}), 6, ("B1", "case-b"), "ids must be unique across modules"),
])
def test_each_hard_rule_is_an_error_naming_rule_and_elements(
        nodes: list[dict[str, Any]], rule: int, elements: tuple[str, ...], needle: str) -> None:
    errors = check(nodes).errors
    error = next(e for e in errors if needle in e.problem.message)
    assert (error.rule, error.severity, error.elements) == (rule, Severity.ERROR, elements)
    assert needle in error.problem.message
    assert f"error GSN{rule} (" in error.text and f"[{', '.join(elements)}]" in error.text


def test_unsupported_goal_is_incomplete_not_an_error() -> None:
    checked = check(changed(G2={"supportedBy": []}, Sn1={"type": "context"},
                            G1={"inContextOf": ["C1", "Sn1"]}))
    assert checked.errors == [] and not checked.complete
    [violation] = checked.violations
    assert (violation.rule, violation.severity) == (5, Severity.INCOMPLETE)
    assert "support it or mark it undeveloped: true" in violation.problem.message


def test_undeveloped_goal_is_an_open_item_and_leaves_the_case_incomplete() -> None:
    checked = check(changed(G2={"supportedBy": [], "undeveloped": True},
                            Sn1={"type": "context"}, G1={"inContextOf": ["C1", "Sn1"]}))
    assert checked.violations == [] and checked.open_items == ["G2"]
    assert not checked.complete


def test_rule_8_warns_about_solutions_without_rules_and_goals_without_strategy() -> None:
    nodes = changed(Sn1={"arcos": None})
    del nodes[-1]["arcos"]
    [warning] = check(nodes).violations
    assert (warning.rule, warning.severity, warning.elements) == (8, Severity.WARNING, ("Sn1",))
    many = [f"Sn{i}" for i in range(1, 5)]
    nodes = changed(G2={"supportedBy": many})
    nodes += [{"id": s, "type": "solution", "text": "x", "arcos": {"type": "sbom"}}
              for s in many[1:]]
    [warning] = check(nodes).violations
    assert warning.rule == 8 and "straight to 4 solutions" in warning.problem.message
    assert check(nodes).problems == []  # warnings never refuse


def test_templates_see_no_warnings_unless_asked() -> None:
    nodes = changed(Sn1={})
    del nodes[-1]["arcos"]
    parsed = parse_argument(nodes, "argument", [])
    assert check_argument(parsed, "argument", MODULES).violations == []
