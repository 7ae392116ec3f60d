"""TLP 2.0 levels, their STIX 2.1 marking definitions and what each means in ARCOS.

STIX 2.1's built-in markings are TLP 1.0; TLP 2.0 is the OASIS property extension
`extension-definition--60a3c5c5-…` with the official marking-definition ids below. Each
level maps onto a community visibility: CLEAR is public, GREEN the community of
authenticated readers, AMBER, AMBER+STRICT and RED are private to the sharer — AMBER and
RED also to the recipients the sharer names. Unmarked objects are AMBER.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from arcos.community.sharing import Visibility

TLP_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
#: The `created` of the official TLP 2.0 marking definitions.
TLP_CREATED = "2022-10-01T00:00:00.000Z"


class Tlp(StrEnum):
    """A TLP 2.0 level, from least to most restricted (the enum's order)."""

    CLEAR = "clear"
    GREEN = "green"
    AMBER = "amber"
    AMBER_STRICT = "amber+strict"
    RED = "red"


MARKING_IDS: dict[Tlp, str] = {
    Tlp.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    Tlp.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    Tlp.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    Tlp.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    Tlp.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
#: STIX 2.1's TLP 1.0 markings (stix2's TLP_WHITE…TLP_RED), read as their TLP 2.0 levels.
TLP1_MARKING_IDS: dict[str, Tlp] = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": Tlp.CLEAR,
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": Tlp.GREEN,
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": Tlp.AMBER,
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": Tlp.RED,
}
LEVEL_OF_MARKING: dict[str, Tlp] = {
    **{marking: level for level, marking in MARKING_IDS.items()}, **TLP1_MARKING_IDS
}
_ORDER = list(Tlp)
#: Levels whose readers include the recipients the sharer names.
NAMED_RECIPIENTS = frozenset({Tlp.AMBER, Tlp.RED})


def visibility_of(level: Tlp) -> Visibility:
    """Who may read an item marked `level` (recipients aside)."""
    if level is Tlp.CLEAR:
        return Visibility.PUBLIC
    if level is Tlp.GREEN:
        return Visibility.COMMUNITY
    return Visibility.PRIVATE


def strictest(levels: Iterable[Tlp]) -> Tlp | None:
    """The most restricted of `levels`; None when there are none."""
    ranked = sorted(levels, key=_ORDER.index)
    return ranked[-1] if ranked else None


def level_of_markings(refs: Iterable[Any], local: Mapping[str, Tlp] | None = None) -> Tlp:
    """The TLP of an object whose `object_marking_refs` are `refs`: the strictest TLP marking
    among them (TLP 1.0 ones read as TLP 2.0; `local`: a bundle's own TLP marking
    definitions), AMBER when none is a TLP marking."""
    known = {**(local or {}), **LEVEL_OF_MARKING}
    found = strictest(known[ref] for ref in refs if isinstance(ref, str) and ref in known)
    return Tlp.AMBER if found is None else found


def local_levels(objects: Iterable[Any]) -> dict[str, Tlp]:
    """The TLP level of each non-official marking definition among `objects` that states
    one: a TLP 2.0 extension's `tlp_2_0` (under any extension id), or a STIX 2.1 TLP 1.0
    `definition_type: "tlp"` with `definition.tlp` (white read as CLEAR)."""
    levels: dict[str, Tlp] = {}
    for obj in objects:
        if not isinstance(obj, dict) or obj.get("type") != "marking-definition" or \
                not isinstance(obj.get("id"), str) or obj["id"] in LEVEL_OF_MARKING:
            continue
        level = _stated_level(obj)
        if level is not None:
            levels[obj["id"]] = level
    return levels


def _stated_level(obj: dict[str, Any]) -> Tlp | None:
    extensions = obj.get("extensions")
    if isinstance(extensions, dict):
        for extension in extensions.values():
            value = extension.get("tlp_2_0") if isinstance(extension, dict) else None
            if isinstance(value, str) and value.lower() in _BY_VALUE:
                return _BY_VALUE[value.lower()]
    definition = obj.get("definition")
    if obj.get("definition_type") == "tlp" and isinstance(definition, dict):
        value = definition.get("tlp")
        if isinstance(value, str):
            return _TLP1.get(value.lower())
    return None


_BY_VALUE = {level.value: level for level in Tlp}
_TLP1 = {"white": Tlp.CLEAR, "clear": Tlp.CLEAR, "green": Tlp.GREEN, "amber": Tlp.AMBER,
         "red": Tlp.RED}


def marking_definition(level: Tlp) -> dict[str, Any]:
    """The official TLP 2.0 marking-definition object for `level`."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": MARKING_IDS[level],
        "created": TLP_CREATED,
        "name": f"TLP:{level.value.upper()}",
        "extensions": {
            TLP_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": level.value}
        },
    }
