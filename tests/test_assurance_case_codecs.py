"""The case codecs: gsn2x YAML in and out (kinds from id prefixes, the arcos: rule kept or
left out with plain), JSON, DOT and an SVG that parses as XML with one group per element;
hostile YAML is refused with its line, before anything is built."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

import pytest

from arcos.assurance.document import CaseDocument, from_json, from_yaml, to_json, to_yaml
from arcos.assurance.dot import to_dot
from arcos.assurance.safe_yaml import MAX_YAML_BYTES, YamlRefused, load_yaml
from arcos.assurance.svg import to_svg
from arcos.community.gsn import NodeType
from arcos.problems import Problem

CASE_YAML = """\
module: {name: Release 1.0 is secure, brief: Our release argument}
G1:
  text: The release is acceptably secure.
  supportedBy: [S1]
  inContextOf: C1
C1: {text: Release 1.0 of acme/app.}
S1:
  text: Argue over testing and the platform.
  supportedBy: [G2, G7]
  inContextOf: [A1, J1]
A1: {text: The CI runners are trusted.}
J1: {text: Tests cover every requirement.}
G2:
  text: Tests pass.
  public: true
  supportedBy: [Sn1]
G7: {text: Platform is hardened., module: case-b}
Sn1:
  text: JUnit results.
  url: https://example.org/ci
  arcos: {metric: tests.pass_rate, predicate: '>= 0.95', max_age_days: 30}
"""


def read(text: str | bytes) -> tuple[CaseDocument, list[Problem]]:
    problems: list[Problem] = []
    return from_yaml(text, problems), problems


def test_yaml_kinds_come_from_id_prefixes_and_extensions() -> None:
    document, problems = read(CASE_YAML)
    assert problems == []
    kinds = {node.id: node.type for node in document.elements}
    assert kinds == {"G1": NodeType.GOAL, "C1": NodeType.CONTEXT, "S1": NodeType.STRATEGY,
                     "A1": NodeType.ASSUMPTION, "J1": NodeType.JUSTIFICATION,
                     "G2": NodeType.GOAL, "G7": NodeType.AWAY_GOAL, "Sn1": NodeType.SOLUTION}
    by_id = {node.id: node for node in document.elements}
    assert by_id["G1"].in_context_of == ("C1",)  # one id as gsn2x reads it
    assert by_id["G2"].public and by_id["G7"].module == "case-b"
    assert by_id["Sn1"].rule == {"metric": "tests.pass_rate", "predicate": ">= 0.95",
                                 "max_age_days": 30}
    assert document.title == "Release 1.0 is secure"


def test_yaml_and_json_round_trip_and_plain_leaves_out_rules() -> None:
    document, _ = read(CASE_YAML)
    again, problems = read(to_yaml(document))
    assert problems == [] and again == document
    problems = []
    assert from_json(to_json(document), problems) == document and problems == []
    plain = to_yaml(document, plain=True)
    assert "arcos" not in plain and "tests.pass_rate" not in plain
    assert "arcos" not in str(to_json(document, plain=True))


def test_node_type_overrides_the_prefix_and_bad_ids_are_named_with_their_line() -> None:
    document, problems = read("module: {name: x}\nTop:\n  text: t\n  nodeType: Goal\n"
                              "  undeveloped: true\n")
    assert problems == [] and document.elements[0].type == NodeType.GOAL
    _, problems = read("module: {name: x}\nX1: {text: what am I}\nCG1: {text: counter}\n")
    assert [p.field for p in problems] == ["X1", "CG1"]
    assert "(line 2)" in problems[0].message and "starts with G, S, Sn" in problems[0].message
    _, problems = read("module: {name: x}\nG1:\n  text: t\n  supportedBy: {a: 1}\n")
    assert problems[0].field == "G1.supportedBy" and "(line 2)" in problems[0].message


@pytest.mark.parametrize(("text", "needle"), [
    ("a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n"
        for i in range(8)), "expands to more than"),
    ("[" * 200 + "]" * 200, "nested deeper than"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8"),
    (b"G1: {text: a}\x00", "NUL"),
    ("G1: {text: a}\nG1: {text: b}\n", "given twice (first on line 1)"),
    ("G1: !!python/object/apply:os.system [ls]\n", "only plain YAML"),
    ("G1: {text: [unclosed\n", "line "),
    ("x" * (MAX_YAML_BYTES + 1), "at most"),
])
def test_hostile_yaml_is_refused_before_it_is_built(text: str | bytes, needle: str) -> None:
    with pytest.raises(YamlRefused) as refused:
        load_yaml(text)
    assert needle in str(refused.value)
    _, problems = read(text)
    assert len(problems) == 1 and needle in problems[0].message


def test_svg_parses_as_xml_with_one_group_per_element_and_status_colours() -> None:
    document, _ = read(CASE_YAML)
    svg = to_svg(document, {"Sn1": "FAILING", "G1": "FAILING"})
    root = ElementTree.fromstring(svg)
    groups = [g for g in root.iter("{http://www.w3.org/2000/svg}g")
              if "gsn-node" in (g.get("class") or "")]
    assert len(groups) == len(document.elements) == 8
    by_id = {g.get("id"): g for g in groups}
    assert by_id["node-Sn1"].get("data-status") == "FAILING"
    assert by_id["node-Sn1"].find("{http://www.w3.org/2000/svg}circle") is not None
    assert by_id["node-S1"].find("{http://www.w3.org/2000/svg}polygon") is not None
    assert by_id["node-A1"].find("{http://www.w3.org/2000/svg}ellipse") is not None
    undeveloped, _ = read("G1: {text: '<script>x</script>', undeveloped: true}\n")
    svg = to_svg(CaseDocument("t & <b>", undeveloped.elements))
    assert "gsn-undeveloped" in svg and "<script>" not in svg
    ElementTree.fromstring(svg)


def test_dot_has_gsn_shapes_and_both_arrow_kinds() -> None:
    document, _ = read(CASE_YAML)
    dot = to_dot(document, {"Sn1": "SUPPORTED"})
    assert '"S1" [shape=parallelogram' in dot and '"Sn1" [shape=circle' in dot
    assert '"G1" -> "S1" [arrowhead=normal]' in dot
    assert '"G1" -> "C1" [arrowhead=empty]' in dot and '"A1 (A)' in dot
    assert '#c8e6c9' in dot
