"""A case from an industry template: its GSN skeleton, each Solution bound to evidence by
the default rule of the evidence kind it expects (test results: `tests.pass_rate >= 0.95`,
static analysis: `findings.critical == 0`, …), the same defaults compliance controls use
(arcos/community/compliance_content.py CODE_CHECKS).

A template Solution that expects several kinds ([TR, COV]) becomes one Solution per kind
(`Sn1.TR`, `Sn1.COV`), since a Solution is decided by one rule."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from arcos.assurance.document import CaseDocument
from arcos.community.checks import Check
from arcos.community.compliance_content import CODE_CHECKS
from arcos.community.evidence_codes import DESCRIPTIONS, EVIDENCE_TYPES, EvidenceCode
from arcos.community.gsn import Node, NodeType
from arcos.community.industry_content import Industry

#: The evidence kind each ARCOS evidence type is first named by.
CODE_OF_TYPE: dict[str, EvidenceCode] = {}
for _code, _types in EVIDENCE_TYPES.items():
    for _type in _types:
        CODE_OF_TYPE.setdefault(_type, _code)


def _number(value: float | None) -> str:
    return f"{value:g}" if value is not None else ""


def _rule_of_check(check: Check) -> dict[str, Any]:
    if check.kind == "metric":
        return {"metric": check.metric, "predicate": f"{check.op} {_number(check.threshold)}",
                "max_age_days": check.days}
    if check.kind == "sbom":
        return {"type": "sbom", "max_age_days": check.days}
    return {"type": check.types[0], "max_age_days": check.days}


def default_rule(code: EvidenceCode) -> dict[str, Any]:
    """The rule a Solution expecting `code` gets: its first metric check if it has one
    (what the evidence says), else its evidence check (that fresh evidence exists)."""
    checks = CODE_CHECKS.get(code, ())
    chosen = next((c for c in checks if c.kind == "metric"), checks[0] if checks else None)
    if chosen is None:
        return {"type": EVIDENCE_TYPES[code][0], "max_age_days": 90}
    return _rule_of_check(chosen)


def _codes(node: Node) -> list[EvidenceCode]:
    return list(dict.fromkeys(CODE_OF_TYPE[t] for t in node.evidence_types
                              if t in CODE_OF_TYPE))


def case_from_industry(industry: Industry, title: str | None = None) -> CaseDocument:
    """The industry's argument as a case document with default evidence rules."""
    split: dict[str, tuple[str, ...]] = {}
    nodes: list[Node] = []
    for node in industry.argument:
        if node.type != NodeType.SOLUTION:
            nodes.append(node)
            continue
        codes = _codes(node)
        if len(codes) <= 1:
            rule = default_rule(codes[0]) if codes else None
            nodes.append(replace(node, rule=rule))
            continue
        parts = []
        for code in codes:
            part_id = f"{node.id}.{code.value}"
            parts.append(part_id)
            nodes.append(replace(node, id=part_id, text=f"{node.text} ({DESCRIPTIONS[code]})",
                                 evidence_types=EVIDENCE_TYPES[code], rule=default_rule(code)))
        split[node.id] = tuple(parts)
    nodes = [replace(node, supported_by=tuple(
        part for target in node.supported_by for part in split.get(target, (target,))))
        for node in nodes]
    return CaseDocument(title or f"{industry.name} assurance case", tuple(nodes))
