"""Reading a STIX 2.1 bundle someone sent: checked whole before anything is stored, so a
bad bundle is refused with every problem named (`objects.3.pattern: …`) and writes nothing.

Every object is kept as sent — unknown types and custom properties included — once it has
what STIX requires of every object (a valid type, an id of that type, STIX timestamps) and
of the kinds ARCOS reasons about (indicators' patterns are checked with stix2-patterns,
relationships need both ends), and holds nothing a store cannot keep (NUL, lone
surrogates, non-finite numbers such as 1e400). Bounded: objects, nesting, size and the
pattern characters parsed; the whole check runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from arcos.community.threats_patterns import pattern_problem
from arcos.community.threats_tlp import (
    LEVEL_OF_MARKING,
    Tlp,
    level_of_markings,
    local_levels,
)
from arcos.problems import Problem, ProblemCode, Refused
from arcos.storable import json_problem, storable

MAX_OBJECTS = 5_000
MAX_BUNDLE_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 32
MAX_PROBLEMS = 20
#: Characters of STIX patterns parsed per bundle: stix2-patterns is pure-Python ANTLR (about
#: 0.1 s per 4,000-character pattern, holding the GIL even in a worker thread).
MAX_PATTERN_CHARACTERS = 128 * 1024
_TYPE = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?!-)){1,248}[a-z0-9]$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$")
_NAMED = frozenset({"attack-pattern", "campaign", "course-of-action", "identity",
                    "threat-actor", "tool", "vulnerability", "report"})


@dataclass(frozen=True)
class StixRecord:
    """One object of a bundle, ready to store."""

    stix_id: str
    stix_type: str
    modified: str
    tlp: Tlp
    source_ref: str | None
    target_ref: str | None
    body: dict[str, Any]


@dataclass(frozen=True)
class Bundle:
    bundle_id: str
    records: list[StixRecord]


def _depth(value: Any) -> int:
    """The nesting depth of a JSON value, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            return depth
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return deepest


def _identifier(value: Any, kind: str | None = None) -> bool:
    if not isinstance(value, str):
        return False
    prefix, separator, rest = value.partition("--")
    if not separator or not _TYPE.match(prefix) or (kind is not None and prefix != kind):
        return False
    try:
        uuid.UUID(rest)
    except ValueError:
        return False
    return len(value) <= 300


def _object_problems(raw: dict[str, Any]) -> list[str]:
    """What is wrong with one object (empty when it may be stored)."""
    kind = raw.get("type")
    if not isinstance(kind, str) or not _TYPE.match(kind):
        return ["`type` must be 3-250 lower-case letters, digits and single hyphens"]
    problems = []
    if not _identifier(raw.get("id"), kind):
        problems.append(f"`id` must be `{kind}--<uuid>`")
    if "spec_version" in raw and raw["spec_version"] != "2.1":
        problems.append("`spec_version` must be \"2.1\" (STIX 2.1 bundles only)")
    for name in ("created", "modified", "valid_from", "first_seen", "last_seen", "published"):
        if name in raw and not (isinstance(raw[name], str) and _TIMESTAMP.match(raw[name])):
            problems.append(f"`{name}` must be a STIX timestamp like 2026-01-31T12:00:00.000Z")
    if "created" in raw and "spec_version" not in raw:
        problems.append("`spec_version` \"2.1\" is required on domain and relationship objects")
    refs = raw.get("object_marking_refs", [])
    if not isinstance(refs, list) or not all(_identifier(r, "marking-definition") for r in refs):
        problems.append("`object_marking_refs` must be a list of marking-definition ids")
    if kind in _NAMED and not (isinstance(raw.get("name"), str) and raw["name"].strip()):
        problems.append(f"a {kind} needs a `name`")
    if kind == "relationship":
        if not isinstance(raw.get("relationship_type"), str):
            problems.append("a relationship needs a `relationship_type`")
        for end in ("source_ref", "target_ref"):
            if not _identifier(raw.get(end)):
                problems.append(f"`{end}` must be a STIX id like indicator--<uuid>")
    if kind == "sighting" and not _identifier(raw.get("sighting_of_ref")):
        problems.append("`sighting_of_ref` must be a STIX id")
    if kind == "indicator":
        problems += _indicator_problems(raw)
    return problems


def _indicator_problems(raw: dict[str, Any]) -> list[str]:
    problems = []
    for name in ("pattern", "pattern_type", "valid_from"):
        if not isinstance(raw.get(name), str):
            problems.append(f"an indicator needs `{name}`")
    if raw.get("pattern_type") == "stix" and isinstance(raw.get("pattern"), str):
        problem = pattern_problem(raw["pattern"])
        if problem is not None:
            problems.append(f"`pattern`: {problem}")
    return problems


def _record(raw: dict[str, Any], local: dict[str, Tlp]) -> StixRecord:
    kind = raw["type"]
    source = raw.get("source_ref") if kind == "relationship" else None
    target = raw.get("target_ref") if kind == "relationship" else (
        raw.get("sighting_of_ref") if kind == "sighting" else None)
    modified = raw.get("modified") or raw.get("created") or ""
    return StixRecord(raw["id"], kind, modified, level_of_markings(raw.get(
        "object_marking_refs", []), local), source, target, raw)


def read_bundle(document: Any) -> Bundle:
    """The objects of a bundle to store; raises Refused naming every problem found (up to
    MAX_PROBLEMS). TLP marking definitions are not stored: ARCOS exports the official ones."""
    def refuse(field: str | None, message: str, code: ProblemCode = ProblemCode.INVALID
               ) -> Refused:
        return Refused.one(field, message, code)

    if not isinstance(document, dict) or document.get("type") != "bundle":
        raise refuse("bundle", 'send a STIX 2.1 bundle: {"type": "bundle", "id": '
                     '"bundle--<uuid>", "objects": [...]}')
    if not _identifier(document.get("id"), "bundle"):
        raise refuse("bundle.id", "the bundle's `id` must be `bundle--<uuid>`")
    objects = document.get("objects")
    if not isinstance(objects, list) or not objects:
        raise refuse("bundle.objects", "`objects` must be a non-empty list of STIX objects")
    if len(objects) > MAX_OBJECTS:
        raise refuse("bundle.objects", f"at most {MAX_OBJECTS} objects per bundle; split it",
                      ProblemCode.TOO_LARGE)
    if _depth(document) > MAX_DEPTH:
        raise refuse("bundle", f"the bundle nests deeper than {MAX_DEPTH} levels",
                     ProblemCode.TOO_LARGE)
    if len(json.dumps(document, ensure_ascii=False)) > MAX_BUNDLE_BYTES:
        raise refuse("bundle", f"the bundle is larger than {MAX_BUNDLE_BYTES} bytes; split it",
                      ProblemCode.TOO_LARGE)
    envelope = json_problem({key: value for key, value in document.items() if key != "objects"})
    if envelope is not None:
        raise refuse("bundle", f"the bundle {envelope}")
    total = sum(len(raw["pattern"]) for raw in objects if isinstance(raw, dict)
                and raw.get("type") == "indicator" and isinstance(raw.get("pattern"), str))
    if total > MAX_PATTERN_CHARACTERS:
        raise refuse("bundle.objects", f"the bundle's indicator patterns hold {total} "
                     f"characters; at most {MAX_PATTERN_CHARACTERS} per bundle (each is "
                     "parsed): split it", ProblemCode.TOO_LARGE)
    local = local_levels(objects)
    problems: list[Problem] = []
    records: dict[tuple[str, str], StixRecord] = {}
    for index, raw in enumerate(objects):
        found = ["each object must be a JSON object"] if not isinstance(raw, dict) else (
            _storable_problems(raw) or _object_problems(raw))
        problems += [Problem(f"bundle.objects.{index}", f"object {index + 1}"
                             f"{_named(raw)}: {message}", ProblemCode.INVALID)
                     for message in found]
        if len(problems) >= MAX_PROBLEMS:
            break
        if not found and raw["id"] not in LEVEL_OF_MARKING:
            record = _record(raw, local)
            records.setdefault((record.stix_id, record.modified), record)
    if problems:
        raise Refused(problems[:MAX_PROBLEMS])
    return Bundle(document["id"], list(records.values()))


def _storable_problems(raw: dict[str, Any]) -> list[str]:
    """Text no store can keep or a non-finite number, anywhere in the object (keys too):
    checked first, so nothing else reads such values."""
    problem = json_problem(raw)
    return [] if problem is None else [f"the object {problem}"]


def _named(raw: Any) -> str:
    identifier = raw.get("id") if isinstance(raw, dict) else None
    return f" ({storable(identifier, 120)})" if isinstance(identifier, str) else ""


async def check_bundle(document: Any) -> Bundle:
    """`read_bundle` in a worker thread (pattern parsing is CPU work on untrusted text)."""
    return await asyncio.to_thread(read_bundle, document)
