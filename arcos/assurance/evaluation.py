"""A case's live status: each Solution's evidence rule answered from the store, and Goals
and Strategies aggregated from their children.

A rule is answered the way compliance controls are (arcos/community/compliance_status.py):
a metric rule and a control rule become compliance `Check`s and are read and judged by the
same code, so `findings.critical` is counted from open findings in both places. Evidence
filter and pinned-id rules read evidence rows directly; their predicate is applied to the
newest matching item's JSON data (to every pinned item).

Each Solution answers SUPPORTED, FAILING (the evidence shows the claim unmet), MISSING (no
evidence) or STALE (older than `max_age_days`); a failing predicate wins over staleness,
as in compliance checks. `at` asks about a past moment: only evidence and metric values
received by then count, and ages are measured at `at`.

Reads for many rules at once (`evaluate_rules`) are bounded by what the rules name, not by
their number: one query for the projects, at most four per project for metrics and
controls (see `read_project`; as of a past moment, one per evidence type and metric name
they read), one per distinct evidence filter and one for all pinned ids.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from arcos.assurance.rules import EvidenceRule, Predicate, compile_predicate
from arcos.community.checks import Check
from arcos.community.compliance_content import BY_KEY, Control
from arcos.community.compliance_status import (
    ProjectData,
    Status,
    evaluate_check,
    evaluate_control,
    read_project,
)
from arcos.evidence.models import Evidence, Project

#: The freshness of a metric rule that sets no `max_age_days`: no window at all.
NO_WINDOW_DAYS = 999_999


class ElementStatus(StrEnum):
    SUPPORTED = "SUPPORTED"
    FAILING = "FAILING"
    MISSING = "MISSING"
    STALE = "STALE"
    OPEN = "OPEN"


#: A compliance answer as a Solution's status.
_FROM_COMPLIANCE = {Status.SATISFIED: ElementStatus.SUPPORTED, Status.FAILING:
                    ElementStatus.FAILING, Status.MISSING: ElementStatus.MISSING,
                    Status.STALE: ElementStatus.STALE}


@dataclass(frozen=True)
class Verdict:
    """A Solution's status, the evidence that decided it and why, in one sentence."""

    status: ElementStatus
    evidence_ids: tuple[uuid.UUID, ...]
    reason: str


@dataclass(frozen=True)
class _Found:
    """One evidence row as a rule reads it (`data` only when a predicate needs it)."""

    uid: uuid.UUID
    created_at: datetime
    data: Any = None


async def evaluate_rule(rule: EvidenceRule, project_slug: str, *, at: datetime | None,
                        now: datetime) -> Verdict:
    """The verdict of one rule for the case's project `project_slug` (the rule's own
    `project` wins); `at`: as the store stood at that moment, None for now."""
    return (await evaluate_rules([rule], project_slug, at=at, now=now))[0]


async def evaluate_rules(rules: Sequence[EvidenceRule], project_slug: str, *,
                         at: datetime | None, now: datetime) -> list[Verdict]:
    """The verdicts of `rules` in order, reading each thing they name once."""
    if not rules:
        return []
    when = now if at is None else at
    slugs = {rule.project or project_slug for rule in rules}
    projects = dict(await Project.filter(slug__in=sorted(slugs)).values_list("slug", "id"))
    data = await _compliance_data(rules, project_slug, projects, at)
    newest = await _newest_matching(rules, project_slug, projects, at)
    pinned = await _pinned(rules, at)
    verdicts = []
    for rule in rules:
        slug = rule.project or project_slug
        if rule.subject == "pinned":
            verdicts.append(_pinned_verdict(rule, pinned, when))
        elif slug not in projects:
            verdicts.append(Verdict(ElementStatus.MISSING, (), f"project {slug} has no "
                                    "evidence"))
        elif rule.subject == "evidence":
            verdicts.append(_evidence_verdict(rule, newest.get(_filter_key(rule, slug)), when))
        elif rule.subject == "control":
            verdicts.append(_control_verdict(rule, data[slug], when))
        else:
            result = evaluate_check(_metric_check(rule), data[slug], when)
            verdicts.append(Verdict(_FROM_COMPLIANCE[result.status], result.evidence_uids,
                                    result.detail))
    return verdicts


def _metric_check(rule: EvidenceRule) -> Check:
    """A metric rule as the compliance check that answers it; without a predicate, any
    value passes (the rule asks only that one was recorded, and when)."""
    predicate = compile_predicate(rule)
    op, threshold = ((predicate.op, float(predicate.operand)) if predicate is not None
                     else (">=", -math.inf))
    return Check("metric", days=rule.max_age_days or NO_WINDOW_DAYS, metric=rule.metric,
                 op=op, threshold=threshold)


def _control(rule: EvidenceRule) -> Control:
    framework, _, control_id = str(rule.control).partition(":")
    return next(item for item in BY_KEY[framework].controls if item.id == control_id)


async def _compliance_data(rules: Sequence[EvidenceRule], project_slug: str,
                           projects: Mapping[str, int], at: datetime | None
                           ) -> dict[str, ProjectData]:
    """What the metric and control rules need, per project, as compliance reads it."""
    checks: dict[str, list[Check]] = {}
    for rule in rules:
        slug = rule.project or project_slug
        if slug not in projects:
            continue
        if rule.subject == "metric":
            checks.setdefault(slug, []).append(_metric_check(rule))
        elif rule.subject == "control":
            checks.setdefault(slug, []).extend(_control(rule).checks)
    return {slug: await read_project(projects[slug], wanted, at)
            for slug, wanted in checks.items()}


def _control_verdict(rule: EvidenceRule, data: ProjectData, when: datetime) -> Verdict:
    """The control's compliance status; with a predicate, SUPPORTED when the status meets
    it and otherwise the status itself (a satisfied control that should not be: FAILING)."""
    result = evaluate_control(_control(rule), data, when)
    predicate = compile_predicate(rule) or Predicate("==", Status.SATISFIED.value)
    details = "; ".join(check.detail for check in result.checks)
    reason = f"{rule.control} is {result.status.value}: {details}"
    if predicate.holds(result.status.value):
        return Verdict(ElementStatus.SUPPORTED, result.evidence_uids, reason)
    status = _FROM_COMPLIANCE[result.status]
    if status == ElementStatus.SUPPORTED:
        status = ElementStatus.FAILING
        reason += f"; needs {predicate.op} {predicate.operand}"
    return Verdict(status, result.evidence_uids, reason)


def _filter_key(rule: EvidenceRule, slug: str) -> tuple[str, str | None, str | None, str | None]:
    return slug, rule.type, rule.source, rule.ref


async def _newest_matching(rules: Sequence[EvidenceRule], project_slug: str,
                           projects: Mapping[str, int], at: datetime | None
                           ) -> dict[tuple[str, str | None, str | None, str | None], _Found]:
    """The newest item (by `created_at`, then insertion) of each distinct evidence filter,
    one query each; `data` is read only for filters some predicate looks into."""
    wanted: dict[tuple[str, str | None, str | None, str | None], bool] = {}
    for rule in rules:
        slug = rule.project or project_slug
        if rule.subject == "evidence" and slug in projects:
            key = _filter_key(rule, slug)
            wanted[key] = wanted.get(key, False) or rule.predicate is not None
    found = {}
    for key, with_data in wanted.items():
        slug, kind, source, ref = key
        query = Evidence.filter(project_id=projects[slug])
        for name, value in (("type", kind), ("source", source), ("ref", ref)):
            if value is not None:
                query = query.filter(**{name: value})
        if at is not None:
            query = query.filter(created_at__lte=at)
        fields = ("uid", "created_at", "data") if with_data else ("uid", "created_at")
        row = await query.order_by("-created_at", "-seq").first().values_list(*fields)
        if row is not None:
            found[key] = _Found(_uuid(row[0]), row[1], row[2] if with_data else None)
    return found


async def _pinned(rules: Sequence[EvidenceRule], at: datetime | None) -> dict[str, _Found]:
    """Every pinned item of `rules` received by `at`, in one query, by uuid text."""
    ids = {uid for rule in rules for uid in rule.evidence_ids}
    if not ids:
        return {}
    with_data = any(rule.evidence_ids and rule.predicate for rule in rules)
    query = Evidence.filter(uid__in=sorted(ids))
    if at is not None:
        query = query.filter(created_at__lte=at)
    fields = ("uid", "created_at", "data") if with_data else ("uid", "created_at")
    return {str(_uuid(row[0])): _Found(_uuid(row[0]), row[1], row[2] if with_data else None)
            for row in await query.values_list(*fields)}


def _evidence_verdict(rule: EvidenceRule, found: _Found | None, when: datetime) -> Verdict:
    if found is None:
        return Verdict(ElementStatus.MISSING, (), f"no {rule.describe()} for this project")
    return _judge(rule, [found], when)


def _pinned_verdict(rule: EvidenceRule, pinned: Mapping[str, _Found], when: datetime
                    ) -> Verdict:
    absent = [uid for uid in rule.evidence_ids if uid not in pinned]
    if absent:
        return Verdict(ElementStatus.MISSING, tuple(pinned[uid].uid for uid in rule.evidence_ids
                                                    if uid in pinned),
                       f"pinned evidence {', '.join(absent)} is not stored")
    return _judge(rule, [pinned[uid] for uid in rule.evidence_ids], when)


def _judge(rule: EvidenceRule, items: Sequence[_Found], when: datetime) -> Verdict:
    """The predicate over every item's data, then the oldest item's age."""
    ids = tuple(item.uid for item in items)
    predicate = compile_predicate(rule)
    what = "evidence " + ", ".join(str(uid) for uid in ids)
    if predicate is not None:
        for item in items:
            present, value = predicate.find(item.data)
            if not present:
                return Verdict(ElementStatus.FAILING, (item.uid,), f"{rule.predicate}: "
                               f"{_dotted(predicate)} is absent from evidence {item.uid}")
            if not predicate.holds(value):
                return Verdict(ElementStatus.FAILING, (item.uid,), f"{rule.predicate} does not "
                               f"hold: {_dotted(predicate)} is {_shown(value)} in evidence "
                               f"{item.uid}")
    oldest = min(item.created_at for item in items)
    age = max(0, (when - oldest).days)
    if rule.max_age_days is not None and when - oldest > timedelta(days=rule.max_age_days):
        return Verdict(ElementStatus.STALE, ids, f"{what} is {age} days old; it must be at "
                       f"most {rule.max_age_days}")
    held = f"{rule.predicate} holds for " if predicate is not None else ""
    return Verdict(ElementStatus.SUPPORTED, ids, f"{held}{what}, {age} days old")


def _dotted(predicate: Predicate) -> str:
    return ".".join(("data", *predicate.path))


def _shown(value: object) -> str:
    text = repr(value) if isinstance(value, str) else str(value).lower() \
        if isinstance(value, bool) else str(value)
    return text[:80]


def _uuid(value: object) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


#: Element kinds that carry a status; the others (context, assumption, justification)
#: only qualify the argument.
STATUS_KINDS = ("goal", "strategy", "solution", "away_goal")
_NOT_YET = (ElementStatus.MISSING, ElementStatus.STALE, ElementStatus.OPEN)


def aggregate(root: str, supported_by: Mapping[str, Sequence[str]], kinds: Mapping[str, str],
              undeveloped: Collection[str], solutions: Mapping[str, Verdict]
              ) -> dict[str, ElementStatus]:
    """Every Goal, Strategy, Solution and Away Goal's status.

    Solutions take their verdict (MISSING without one: no rule binds them to evidence);
    an Away Goal takes the verdict under its id in `solutions` when the caller resolved the
    goal it refers to, else OPEN. A Goal or Strategy is FAILING when any child is, else OPEN
    when any child is MISSING, STALE or OPEN or it is undeveloped or has no children, else
    SUPPORTED. A cycle (refused by well-formedness, but a case may be saved incomplete)
    makes the elements on it OPEN. Elements unreachable from `root` are answered too."""
    statuses: dict[str, ElementStatus] = {}
    for start in _roots_first(root, kinds):
        if start not in statuses and kinds[start] in STATUS_KINDS:
            _settle(start, supported_by, kinds, undeveloped, solutions, statuses)
    return statuses


def _settle(start: str, supported_by: Mapping[str, Sequence[str]], kinds: Mapping[str, str],
            undeveloped: Collection[str], solutions: Mapping[str, Verdict],
            statuses: dict[str, ElementStatus]) -> None:
    """Children before parents, without recursion (a deep chain of goals must not reach
    Python's recursion limit); an element met again while on the path is a cycle."""
    on_path: set[str] = set()
    stack = [(start, False)]
    while stack:
        element, expanded = stack.pop()
        if element in statuses:
            continue
        kind = kinds.get(element)
        if kind in ("solution", "away_goal"):
            verdict = solutions.get(element)
            statuses[element] = verdict.status if verdict is not None else (
                ElementStatus.MISSING if kind == "solution" else ElementStatus.OPEN)
            continue
        children = [child for child in supported_by.get(element, ())
                    if kinds.get(child) in STATUS_KINDS]
        if expanded:
            on_path.discard(element)
            statuses[element] = _combine([statuses.get(child, ElementStatus.OPEN)
                                          for child in children], element in undeveloped)
            continue
        on_path.add(element)
        stack.append((element, True))
        stack.extend((child, False) for child in children
                     if child not in statuses and child not in on_path)


def _combine(children: Sequence[ElementStatus], undeveloped: bool) -> ElementStatus:
    if ElementStatus.FAILING in children:
        return ElementStatus.FAILING
    if undeveloped or not children or any(child in _NOT_YET for child in children):
        return ElementStatus.OPEN
    return ElementStatus.SUPPORTED


def _roots_first(root: str, kinds: Mapping[str, str]) -> Iterable[str]:
    if root in kinds:
        yield root
    yield from (element for element in kinds if element != root)
