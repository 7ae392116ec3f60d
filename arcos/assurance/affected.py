"""Which cases an arriving evidence item or metric value can change, so only those are
recomputed (and pushed to `assuranceCaseUpdated` subscribers), not every case on every
event.

`RuleIndex` holds every Solution's rule under the keys an event carries: the project and
evidence type (then source and ref are compared), the project and metric name, or a pinned
evidence id. A metric or control rule is also listed under what its compliance checks
read: the evidence types a control's checks name, and for a count of open findings
(`findings.critical`, `vulns.high`) the scans that change it, since a scan changes the
open findings before any metric row says so. Looking up an event costs a few dictionary
reads whatever the number of cases.

Staleness is not an event: a Solution turns STALE when its window passes with nothing new,
so whoever serves statuses evaluates at read time (or on a timer), not only on events.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from arcos.assurance.rules import EvidenceRule
from arcos.community.checks import SBOM_TYPE, finding_family
from arcos.community.compliance_content import BY_KEY


@dataclass(frozen=True)
class Change:
    """What arrived for a project: one evidence item, or metric values."""

    project: str | None
    type: str | None = None
    source: str | None = None
    ref: str | None = None
    #: The new item's uuid (text), for pinned rules.
    evidence_id: str | None = None
    metrics: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of_evidence_event(cls, event: Mapping[str, object]) -> Change:
        """From an `evidence.added` event (arcos/evidence/events.py)."""
        return cls(_text(event.get("project_slug")), _text(event.get("type")),
                   _text(event.get("source")), _text(event.get("ref")), _text(event.get("uid")))

    @classmethod
    def of_metric_event(cls, event: Mapping[str, object]) -> Change:
        """From a `metrics.updated` event (arcos/intake/metrics.py)."""
        name = _text(event.get("name"))
        return cls(_text(event.get("project")),
                   metrics=frozenset(() if name is None else (name,)))


def _text(value: object) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class _Watch:
    """One Solution waiting on evidence; `source`/`ref` narrow an evidence key further."""

    case: str
    element: str
    source: str | None = None
    ref: str | None = None

    def matches(self, change: Change) -> bool:
        return (self.source is None or self.source == change.source) and (
            self.ref is None or self.ref == change.ref)


#: Where a rule is listed: (table, key, watch); tables are "evidence" keyed by (project,
#: evidence type or None for any), "metric" by (project, metric name), "pinned" by uuid.
_Entry = tuple[Literal["evidence", "metric", "pinned"], Hashable, _Watch]


class RuleIndex:
    """Every case's Solution rules, keyed by what an event names."""

    def __init__(self) -> None:
        self._tables: dict[str, dict[Hashable, set[_Watch]]] = {
            "evidence": {}, "metric": {}, "pinned": {}}
        #: case → the entries it added, to take them out again
        self._of_case: dict[str, list[_Entry]] = {}

    def __len__(self) -> int:
        return len(self._of_case)

    def set_case(self, case: str, project: str, rules: Mapping[str, EvidenceRule]) -> None:
        """Index (or re-index, after an edit) case `case` of project `project`: `rules`
        maps each Solution's element id to its rule."""
        self.remove_case(case)
        entries = [entry for element, rule in rules.items()
                   for entry in _entries(case, element, rule, rule.project or project)]
        for table, key, watch in entries:
            self._tables[table].setdefault(key, set()).add(watch)
        self._of_case[case] = entries

    def remove_case(self, case: str) -> None:
        for table, key, watch in self._of_case.pop(case, ()):
            watches = self._tables[table].get(key)
            if watches is not None:
                watches.discard(watch)
                if not watches:
                    del self._tables[table][key]

    def affected(self, change: Change) -> dict[str, frozenset[str]]:
        """The cases `change` may alter, with the Solutions in each whose rule it meets."""
        found: dict[str, set[str]] = {}
        for watch in self._watches(change):
            found.setdefault(watch.case, set()).add(watch.element)
        return {case: frozenset(elements) for case, elements in found.items()}

    def _watches(self, change: Change) -> Iterable[_Watch]:
        evidence, metric, pinned = (self._tables[name] for name in ("evidence", "metric",
                                                                    "pinned"))
        if change.evidence_id is not None:
            yield from pinned.get(change.evidence_id.lower(), ())
        if change.project is None:
            return
        if change.type is not None:
            for kind in (change.type, None):
                for watch in evidence.get((change.project, kind), ()):
                    if watch.matches(change):
                        yield watch
        for name in change.metrics:
            yield from metric.get((change.project, name), ())


def _entries(case: str, element: str, rule: EvidenceRule, project: str) -> Iterable[_Entry]:
    """Where one rule is listed."""
    watch = _Watch(case, element)
    if rule.evidence_ids:
        for uid in rule.evidence_ids:
            yield "pinned", uid, watch
    elif rule.metric is not None:
        yield from _check_entries(project, watch, rule.metric, ())
    elif rule.control is not None:
        framework, _, control_id = rule.control.partition(":")
        control = next(item for item in BY_KEY[framework].controls if item.id == control_id)
        for check in control.checks:
            types = (SBOM_TYPE,) if check.kind == "sbom" else check.types
            yield from _check_entries(project, watch, check.metric, types)
    else:
        yield "evidence", (project, rule.type), _Watch(case, element, rule.source, rule.ref)


def _check_entries(project: str, watch: _Watch, metric: str | None,
                   types: tuple[str, ...]) -> Iterable[_Entry]:
    """A compliance check's keys: its evidence types, its metric, and for a count of open
    findings the scans that change the count and the family's total."""
    for kind in types:
        yield "evidence", (project, kind), watch
    if metric is None:
        return
    yield "metric", (project, metric), watch
    counted = finding_family(metric)
    if counted is not None:
        family = counted[0]
        for kind in (family.report, *family.also):
            yield "evidence", (project, kind), watch
        yield "metric", (project, family.total), watch
