"""Cutting references to objects a reader may not see out of the objects it may.

An exported report that lists an AMBER object's id in `object_refs`, or an indicator whose
`created_by_ref` names a RED identity, tells a GREEN reader that the object exists and
what it is called. Clearance covers ids too: every `*_ref` and `*_refs` property that names
a stored object above the reader's clearance is removed from the copy exported (ids ARCOS
does not hold are left: there is no clearance to keep). An object that cannot stand without
the reference — a relationship without an end, a sighting without what was sighted, a
report whose every listed object is hidden — is left out whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

#: Single references an object is meaningless without.
_REQUIRED_REF = frozenset({"source_ref", "target_ref", "sighting_of_ref"})
#: Reference lists the specification requires to be non-empty.
_REQUIRED_REFS = frozenset({"object_refs"})


def references(objects: Iterable[dict[str, Any]]) -> set[str]:
    """Every id named by a top-level `*_ref` or `*_refs` property."""
    found: set[str] = set()
    for obj in objects:
        for name, value in obj.items():
            if name.endswith("_ref") and isinstance(value, str):
                found.add(value)
            elif name.endswith("_refs") and isinstance(value, list):
                found.update(ref for ref in value if isinstance(ref, str))
    return found


def without_hidden(
    objects: Iterable[dict[str, Any]], hidden: set[str]
) -> list[dict[str, Any]]:
    """Copies of `objects` naming no id in `hidden`; those that cannot stand without one
    of their references are dropped."""
    kept: list[dict[str, Any]] = []
    for obj in objects:
        copy = _cut(obj, hidden) if hidden else obj
        if copy is not None:
            kept.append(copy)
    return kept


def _cut(obj: dict[str, Any], hidden: set[str]) -> dict[str, Any] | None:
    copy: dict[str, Any] = {}
    for name, value in obj.items():
        if name.endswith("_ref") and isinstance(value, str) and value in hidden:
            if name in _REQUIRED_REF:
                return None
            continue
        if name.endswith("_refs") and isinstance(value, list):
            left = [ref for ref in value if ref not in hidden]
            if not left:
                if value and name in _REQUIRED_REFS:
                    return None
                if value:
                    continue
            copy[name] = left
            continue
        copy[name] = value
    return copy
