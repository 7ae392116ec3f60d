"""A stored case's live status: every Solution's rule evaluated (arcos/assurance/
evaluation.py), Away Goals taking the status of the public goal they name in its own case,
and Goals and Strategies aggregated from their children.

`at` asks about a past moment (caseStatusAt): only evidence that existed then counts, and
the case is read as its version stood then."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from arcos.assurance import service
from arcos.assurance.evaluation import ElementStatus, Verdict, aggregate, evaluate_rules
from arcos.assurance.models import AssuranceCase, AssuranceCaseVersion
from arcos.assurance.rules import EvidenceRule, parse_rule
from arcos.assurance.service import CaseView
from arcos.community.gsn import Node, NodeType
from arcos.problems import Problem

#: How many cases deep Away Goals are followed (a case naming itself through others stops).
MAX_MODULE_DEPTH = 4


@dataclass(frozen=True)
class ElementState:
    id: str
    kind: NodeType
    status: ElementStatus
    evidence_ids: tuple[uuid.UUID, ...]
    reason: str


@dataclass(frozen=True)
class CaseStatus:
    #: The root goal's status: the case's overall answer.
    status: ElementStatus
    elements: tuple[ElementState, ...]
    counts: dict[ElementStatus, int]
    #: Elements not SUPPORTED (undeveloped, missing, stale or failing), root first.
    open_items: tuple[str, ...]
    version: int


#: How many other cases one status evaluation may read through Away Goals in all: each is
#: evaluated once (remembered by case and moment), and a wider web is refused with a reason
#: rather than read (k away goals per case would otherwise cost k^depth evaluations).
MAX_MODULES = 32


@dataclass
class _Walk:
    """One status evaluation's memory: the cases already evaluated (by case id and moment),
    so many away goals into one case read it once, and how many cases were read."""

    done: dict[tuple[int, datetime | None], CaseStatus] = field(default_factory=dict)
    visited: int = 0


def _rule(raw: object) -> EvidenceRule | None:
    problems: list[Problem] = []
    return parse_rule(raw, "arcos", problems) if isinstance(raw, dict) else None


async def _version_at(case: AssuranceCase, at: datetime | None) -> AssuranceCaseVersion | None:
    if at is None:
        return await AssuranceCaseVersion.filter(case_id=case.id, number=case.version).first()
    return await AssuranceCaseVersion.filter(case_id=case.id, created_at__lte=at) \
        .order_by("-number").first()


async def case_status(view: CaseView, *, at: datetime | None, now: datetime,
                      _seen: frozenset[int] = frozenset(),
                      _walk: _Walk | None = None) -> CaseStatus:
    """The status of `view`'s case (its version as of `at`, when given)."""
    walk = _Walk() if _walk is None else _walk
    version = view.version if at is None else await _version_at(view.case, at)
    if version is None:  # the case did not exist yet at `at`
        return CaseStatus(ElementStatus.MISSING, (), {}, (), 0)
    document = view.document if version is view.version else service.document_of(version)
    elements = document.elements
    solutions = [node for node in elements if node.type == NodeType.SOLUTION]
    rules = [_rule(node.rule) for node in solutions]
    bound = [(node, rule) for node, rule in zip(solutions, rules, strict=True) if rule]
    verdicts = await evaluate_rules([rule for _, rule in bound], view.case.project, at=at,
                                    now=now)
    decided: dict[str, Verdict] = {node.id: verdict for (node, _), verdict
                                   in zip(bound, verdicts, strict=True)}
    for node in elements:
        if node.type == NodeType.SOLUTION and node.id not in decided:
            decided[node.id] = Verdict(ElementStatus.MISSING, (), f"{node.id} binds to no "
                                       "evidence (no arcos: rule)")
        elif node.type == NodeType.AWAY_GOAL:
            decided[node.id] = await _away_verdict(node.id, node.module, at, now,
                                                   _seen | {view.case.id}, walk)
    kinds = {node.id: node.type.value for node in elements}
    root = _root(elements)
    statuses = aggregate(root, {
        node.id: node.supported_by for node in elements}, kinds,
        {node.id for node in elements if node.undeveloped}, decided)
    states = tuple(
        ElementState(node.id, node.type, statuses[node.id],
                     decided[node.id].evidence_ids if node.id in decided else (),
                     decided[node.id].reason if node.id in decided
                     else _aggregate_reason(node.undeveloped, statuses[node.id]))
        for node in elements if node.id in statuses)
    return CaseStatus(
        statuses.get(root, ElementStatus.OPEN), states,
        dict(Counter(state.status for state in states)),
        tuple(state.id for state in states if state.status != ElementStatus.SUPPORTED),
        version.number)


def _root(elements: Sequence[Node]) -> str:
    referred = {t for node in elements for t in (*node.supported_by, *node.in_context_of)}
    return next((node.id for node in elements if node.id not in referred), "")


def _aggregate_reason(undeveloped: bool, status: ElementStatus) -> str:
    if undeveloped:
        return "undeveloped: no argument supports it yet"
    return {ElementStatus.FAILING: "a supporting element is failing",
            ElementStatus.OPEN: "a supporting element is missing, stale or open",
            ElementStatus.SUPPORTED: "every supporting element is supported"}.get(
                status, status.value)


async def _away_verdict(goal: str, module: str | None, at: datetime | None, now: datetime,
                        seen: frozenset[int], walk: _Walk) -> Verdict:
    """An Away Goal's status: its goal's status in the case that develops it (each case
    evaluated once per walk, at most MAX_MODULES of them)."""
    found = await service.find_case(module) if module else None
    if found is None:
        return Verdict(ElementStatus.OPEN, (), f"case {module} is not readable")
    if found.case.id in seen or len(seen) >= MAX_MODULE_DEPTH:
        return Verdict(ElementStatus.OPEN, (), f"case {module} refers back to this one")
    key = (found.case.id, at)
    status = walk.done.get(key)
    if status is None:
        if walk.visited >= MAX_MODULES:
            return Verdict(ElementStatus.OPEN, (), f"case {module} not evaluated: this "
                           f"argument's away goals reach more than {MAX_MODULES} cases")
        walk.visited += 1
        status = await case_status(found, at=at, now=now, _seen=seen, _walk=walk)
        walk.done[key] = status
    state = next((s for s in status.elements if s.id == goal), None)
    if state is None:
        return Verdict(ElementStatus.OPEN, (), f"{goal} is not a goal of case {module}")
    return Verdict(state.status, state.evidence_ids, f"{goal} in case {module}: "
                   f"{state.reason}")
