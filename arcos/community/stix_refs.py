"""Cutting references to objects a reader may not see out of the objects it may.

An exported report that lists an AMBER object's id in `object_refs`, or an indicator whose
`created_by_ref` names a RED identity, tells a GREEN reader that the object exists and
what it is called. Clearance covers ids too: every `*_ref` and `*_refs` property — at any
depth: `granular_markings[].marking_ref`, `extensions.*.*_ref`, custom `x_*` objects — that
names a stored object above the reader's clearance is removed from the copy a reader gets
(ids ARCOS does not hold are left: there is no clearance to keep). An object that cannot
stand without a top-level reference — a relationship without an end, a sighting without
what was sighted, a report whose every listed object is hidden — is left out whole; a
nested reference being hidden only removes that property or list entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

#: Top-level single references an object is meaningless without.
_REQUIRED_REF = frozenset({"source_ref", "target_ref", "sighting_of_ref"})
#: Top-level reference lists the specification requires to be non-empty.
_REQUIRED_REFS = frozenset({"object_refs"})


class _Dropped(Exception):
    """The object cannot stand without a reference that was cut."""


def references(objects: Iterable[dict[str, Any]]) -> set[str]:
    """Every id named by a `*_ref` or `*_refs` property, at any depth (no recursion: bodies
    are untrusted and may nest deeply)."""
    found: set[str] = set()
    stack: list[Any] = list(objects)
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
            continue
        if not isinstance(item, dict):
            continue
        for name, value in item.items():
            if name.endswith("_ref") and isinstance(value, str):
                found.add(value)
            elif name.endswith("_refs") and isinstance(value, list):
                found.update(ref for ref in value if isinstance(ref, str))
                stack.extend(ref for ref in value if not isinstance(ref, str))
            else:
                stack.append(value)
    return found


def without_hidden(
    objects: Iterable[dict[str, Any]], hidden: set[str]
) -> list[dict[str, Any]]:
    """Copies of `objects` naming no id in `hidden`; those that cannot stand without one
    of their top-level references are dropped."""
    kept: list[dict[str, Any]] = []
    for obj in objects:
        copy = cut(obj, hidden)
        if copy is not None:
            kept.append(copy)
    return kept


def cut(obj: dict[str, Any], hidden: set[str]) -> dict[str, Any] | None:
    """A copy of one object naming no id in `hidden`, or None when it cannot stand without
    a top-level reference that was hidden."""
    if not hidden:
        return obj
    try:
        return _cut_dict(obj, hidden, top=True)
    except _Dropped:
        return None


def cut_lenient(obj: dict[str, Any], hidden: set[str]) -> dict[str, Any]:
    """`cut` that never drops the object: a hidden required reference is removed like any
    other (for reading one stored object's body, whose listing already checked its ends)."""
    if not hidden:
        return obj
    return _cut_dict(obj, hidden, top=False)


def _cut_dict(obj: dict[str, Any], hidden: set[str], top: bool) -> dict[str, Any]:
    copy: dict[str, Any] = {}
    for name, value in obj.items():
        if name.endswith("_ref") and isinstance(value, str):
            if value in hidden:
                if top and name in _REQUIRED_REF:
                    raise _Dropped
                continue
            copy[name] = value
        elif name.endswith("_refs") and isinstance(value, list):
            left = [_cut_value(ref, hidden) if not isinstance(ref, str) else ref
                    for ref in value if not (isinstance(ref, str) and ref in hidden)]
            if value and not left:
                if top and name in _REQUIRED_REFS:
                    raise _Dropped
                continue
            copy[name] = left
        else:
            copy[name] = _cut_value(value, hidden)
    return copy


def _cut_value(value: Any, hidden: set[str]) -> Any:
    """Nested values: dicts are cut (never dropped whole), lists cut entry by entry; a list
    entry that is a dict left without the reference it existed for (e.g. a granular marking
    whose `marking_ref` was hidden) is removed."""
    if isinstance(value, dict):
        return _cut_dict(value, hidden, top=False)
    if isinstance(value, list):
        kept = []
        for item in value:
            if isinstance(item, dict):
                copy = _cut_dict(item, hidden, top=False)
                if _lost_ref(item, copy):
                    continue
                kept.append(copy)
            else:
                kept.append(_cut_value(item, hidden))
        return kept
    return value


def _lost_ref(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Whether cutting removed one of the dict's own `*_ref` properties."""
    return any(name.endswith("_ref") and name not in after for name in before)
