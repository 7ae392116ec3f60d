"""Bound the work of graphql-core's "overlapping fields can be merged" rule.

That rule compares every pair of fields with the same response name in a selection set
(inline fragments merged in), and for each pair of composite fields compares their
sub-selections pairwise again. Repeating a field multiplies the pairs, and nesting
repeated fields multiplies them once per level: `{ viewer { name } }` repeated 490 times
(under 2,000 tokens) cost 1.6 s of event-loop time, and three fields repeated three
times over four levels 0.2 s. This counts the same pairs, stopping as soon as the count
passes the budget, so refusing costs no more than the budget's worth of counting.
Fragment spreads are bounded separately (ARCOS_MAX_FRAGMENT_SPREADS).
"""

from __future__ import annotations

from collections import defaultdict

from graphql import (
    DocumentNode,
    FieldNode,
    InlineFragmentNode,
    SelectionSetNode,
)

from arcos.graphql.selection_sets import written_selection_sets


class TooManyMerges(Exception):
    """The document needs more field comparisons than the budget allows."""


def check_field_merges(document: DocumentNode, budget: int) -> None:
    """Raise TooManyMerges when validating `document` would compare more than `budget`
    pairs of same-named fields."""
    counter = _MergeCounter(budget)
    for selection_set in written_selection_sets(document):
        counter.within(selection_set)


class _MergeCounter:
    def __init__(self, budget: int) -> None:
        self.left = budget
        self._grouped: dict[int, dict[str, list[FieldNode]]] = {}

    def within(self, selection_set: SelectionSetNode) -> None:
        for fields in self._by_name(selection_set).values():
            for index, first in enumerate(fields):
                for second in fields[index + 1:]:
                    self._pair(first, second)

    def _between(self, first: SelectionSetNode | None, second: SelectionSetNode | None) -> None:
        if first is None or second is None:
            return
        others = self._by_name(second)
        for name, fields in self._by_name(first).items():
            for one in fields:
                for other in others.get(name, ()):
                    self._pair(one, other)

    def _pair(self, first: FieldNode, second: FieldNode) -> None:
        self.left -= 1
        if self.left < 0:
            raise TooManyMerges
        self._between(first.selection_set, second.selection_set)


    def _by_name(self, selection_set: SelectionSetNode) -> dict[str, list[FieldNode]]:
        """Grouped once per selection set: pairs revisit the same sub-selections."""
        key = id(selection_set)
        if key not in self._grouped:
            self._grouped[key] = _fields_by_name(selection_set)
        return self._grouped[key]


def _fields_by_name(selection_set: SelectionSetNode) -> dict[str, list[FieldNode]]:
    """The fields of a selection set by response name, inline fragments merged in."""
    fields: dict[str, list[FieldNode]] = defaultdict(list)
    pending = [selection_set]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                fields[(selection.alias or selection.name).value].append(selection)
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
    return fields
