"""The GSN rules, one by one: each broken rule is caught with a message naming the node at
fault and what to change, at that node's path; malformed nodes name their field."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from arcos.community.gsn import MAX_NODES, check_argument, parse_argument
from arcos.problems import Problem

GOOD: list[dict[str, Any]] = [
    {"id": "G1", "type": "goal", "text": "The system is safe.", "supportedBy": ["S1"],
     "inContextOf": ["C1"]},
    {"id": "C1", "type": "context", "text": "Operating context."},
    {"id": "S1", "type": "strategy", "text": "Argue over hazards.", "supportedBy": ["G2"]},
    {"id": "G2", "type": "goal", "text": "Hazard H1 is mitigated.", "supportedBy": ["Sn1"]},
    {"id": "Sn1", "type": "solution", "text": "Test results.",
     "evidenceTypes": ["test_results"]},
]


def problems_of(nodes: list[dict[str, Any]]) -> list[Problem]:
    found: list[Problem] = []
    parsed = parse_argument(nodes, "argument", found)
    return found or check_argument(parsed, "argument").problems


def changed(**edits: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = copy.deepcopy(GOOD)
    for node in nodes:
        node.update(edits.get(node["id"], {}))
    return nodes


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, problems
    return problems[0]


def test_a_good_argument_passes() -> None:
    assert problems_of(GOOD) == []


def test_rule_1_one_root_and_it_is_a_goal() -> None:
    two_roots = [*copy.deepcopy(GOOD), {"id": "G9", "type": "goal", "text": "Another top.",
                                        "undeveloped": True}]
    problem = only(problems_of(two_roots))
    assert problem.field == "argument" and "2 roots (G1, G9)" in problem.message
    strategy_root = [node for node in copy.deepcopy(GOOD) if node["id"] not in ("G1", "C1")]
    problem = only(problems_of(strategy_root))
    assert problem.field == "argument.0.type"
    assert "the root S1 is a strategy; the root must be a goal" in problem.message


def test_rule_2_every_node_reachable() -> None:
    # G5 supports G6 and G6 supports G5: not roots, and not reachable from G1.
    nodes = [*copy.deepcopy(GOOD),
             {"id": "G5", "type": "goal", "text": "Detached.", "supportedBy": ["G6"]},
             {"id": "G6", "type": "goal", "text": "Detached too.", "supportedBy": ["G5"]}]
    messages = [p.message for p in problems_of(nodes)]
    assert any("G5 cannot be reached from the root G1" in m for m in messages)
    assert any("G6 cannot be reached from the root G1" in m for m in messages)


def test_rule_3_no_cycles_self_references_or_duplicate_edges() -> None:
    cycle = changed(Sn1={"type": "goal", "supportedBy": ["S1"]})
    problem = only(problems_of(cycle))
    assert problem.field == "argument.4.supportedBy"
    assert "SupportedBy cycle S1 → G2 → Sn1 → S1" in problem.message
    assert "remove Sn1's link to S1" in problem.message
    itself = changed(G2={"supportedBy": ["Sn1", "G2"]})
    problem = only(problems_of(itself))
    assert (problem.field, problem.message) == (
        "argument.3.supportedBy", "G2 refers to itself in supportedBy; remove it")
    twice = changed(G2={"supportedBy": ["Sn1", "Sn1"]})
    problem = only(problems_of(twice))
    assert "G2 lists Sn1 twice in supportedBy; list it once" == problem.message


def test_rule_4_allowed_edges_only() -> None:
    problem = only(problems_of(changed(S1={"supportedBy": ["G2", "Sn1"]})))
    assert problem.field == "argument.2.supportedBy"
    assert "S1 (strategy) cannot be supportedBy Sn1 (solution)" in problem.message
    assert "put a goal between them" in problem.message
    problem = only(problems_of(changed(Sn1={"supportedBy": ["C1"]})))
    assert "Sn1 is a solution and cannot be supported by anything" in problem.message
    problem = only(problems_of(changed(G1={"supportedBy": ["S1", "C1"], "inContextOf": []})))
    assert "put C1 in inContextOf instead" in problem.message
    problem = only(problems_of(changed(G2={"inContextOf": ["Sn1"]})))
    assert problem.field == "argument.3.inContextOf"
    assert "G2 is inContextOf Sn1, a solution" in problem.message
    problem = only(problems_of(changed(C1={"inContextOf": ["G2"]})))
    assert "C1 is a context; only goals and strategies have inContextOf" in problem.message


def test_rule_5_supported_or_undeveloped_and_undeveloped_is_open() -> None:
    problem = only(problems_of(changed(G2={"supportedBy": []}, Sn1={"type": "context"},
                                       G1={"inContextOf": ["C1", "Sn1"]})))
    assert problem.field == "argument.3.supportedBy"
    assert "G2 (goal) has no supportedBy children; support it or mark it undeveloped" \
        in problem.message
    problem = only(problems_of(changed(G2={"undeveloped": True})))
    assert "G2 is marked undeveloped but has supportedBy children" in problem.message
    problem = only(problems_of(changed(Sn1={"undeveloped": True})))
    assert "only goals and strategies can be marked undeveloped" in problem.message
    nodes = changed(G2={"supportedBy": [], "undeveloped": True}, Sn1={"type": "context"},
                    G1={"inContextOf": ["C1", "Sn1"]})
    parsed = parse_argument(nodes, "argument", [])
    checked = check_argument(parsed, "argument")
    assert checked.problems == [] and checked.open_items == ["G2"]


def test_rule_6_ids_unique_and_references_exist() -> None:
    problem = only(problems_of(changed(G2={"supportedBy": ["Sn1", "Sn7"]})))
    assert (problem.field, problem.message) == (
        "argument.3.supportedBy", "G2 refers to Sn7, which is not a node of this argument; "
        "add it or fix the id")
    nodes = [*copy.deepcopy(GOOD), {"id": "Sn1", "type": "solution", "text": "Again."}]
    problem = only(problems_of(nodes))
    assert problem.field == "argument.5.id" and "Sn1 is used by node 4 too" in problem.message


@pytest.mark.parametrize(("edit", "field"), [
    ({"id": "1bad"}, "argument.0.id"),
    ({"type": "claim"}, "argument.0.type"),
    ({"text": ""}, "argument.0.text"),
    ({"supportedBy": "S1"}, "argument.0.supportedBy"),
    ({"undeveloped": "no"}, "argument.0.undeveloped"),
    ({"evidenceTypes": ["Not A Type"]}, "argument.0.evidenceTypes"),
    ({"colour": "red"}, "argument.0.colour"),
])
def test_malformed_nodes_name_their_field(edit: dict[str, Any], field: str) -> None:
    assert [p.field for p in problems_of(changed(G1=edit))] == [field]


def test_shapes_and_size_are_bounded() -> None:
    assert only(problems_of([])).field == "argument"
    too_many = [{"id": f"G{i}", "type": "goal", "text": "x", "undeveloped": True}
                for i in range(MAX_NODES + 1)]
    assert "at most 200 nodes" in only(problems_of(too_many)).message
