"""What a JUnit report holds, read from expat's callbacks without building an element tree.

defusedxml parses with ElementTree's pure-Python XMLParser: a Python call per element and an
Element object each, which the JUnit parser then walks again; for a 1,000-test report that
was most of the parse. This reader keeps one small frame per open element and, per
testcase, its attributes and the first child of each verdict name (with its text up to that
child's first child, as the tree's `.text` has it); everything else is skipped in expat's C
loop.

It is as safe as defusedxml by the same means: the handlers defusedxml installs for
`forbid_entities` and `forbid_external` (an entity declaration, an unparsed entity, an
external entity reference) stop the parse before anything is expanded or fetched, and expat
never reads an external DTD (parameter entity parsing stays off). Whatever is not an
ordinary report (any XML error or such refusal, an undefined entity, a root that is not a
suite) raises `Unusual`, and the caller parses the document again through defusedxml, so
the errors users see, and their wording, stay the element tree's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from xml.parsers import expat

#: (verdict element name, its attributes, its text before its first child or None)
Verdict = tuple[str, dict[str, str], str | None]


class Unusual(Exception):
    """Not an ordinary report: the element tree path decides, and words any error."""


@dataclass(frozen=True, slots=True)
class Reading:
    """The parts of a report the JUnit parser uses, in document order."""

    root_name: str  # "testsuites" or "testsuite"
    root: dict[str, str]  # attribute names spelled as the element tree does: {ns}local
    suites: list[dict[str, str]]  # the root's testsuite children's attributes
    cases: list[tuple[dict[str, str], str, Verdict | None]]  # attributes, suite name, verdict


def _refuse(*_: Any) -> None:
    raise Unusual


def read(content: bytes, verdict_tags: tuple[str, ...]) -> Reading:
    """The report's parts; `verdict_tags` ranks the child names that decide an outcome.

    Raises Unusual for anything the element tree path must handle (see the module)."""
    parser = expat.ParserCreate(None, "}")  # namespaces resolved as ElementTree does
    parser.buffer_text = True
    parser.EntityDeclHandler = _refuse
    parser.UnparsedEntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse
    parser.SkippedEntityHandler = _refuse  # an entity an unread external DTD may declare
    verdict_names = frozenset(verdict_tags)
    local_names: dict[str, str] = {}
    roots: list[tuple[str, dict[str, str]]] = []
    suites: list[dict[str, str]] = []
    # per testcase: attributes, suite name, {verdict name: (attributes, text parts)} or None
    records: list[list[Any]] = []
    # per open, read element: its suite name and its testcase record (None for a suite)
    stack: list[tuple[str, list[Any] | None]] = []
    ignored = 0  # depth inside an element whose content does not matter
    capturing = False  # a verdict's text is being collected

    def start(tag: str, attributes: dict[str, str]) -> None:
        nonlocal ignored, capturing
        if capturing:  # the verdict's first child ends its text
            parser.CharacterDataHandler = None
            capturing = False
        if ignored:
            ignored += 1
            return
        local = local_names.get(tag)
        if local is None:
            local = local_names[tag] = tag.rsplit("}", 1)[-1]
        if not stack:
            if local not in ("testsuites", "testsuite"):
                raise Unusual
            roots.append((local, {
                ("{" + key if "}" in key else key): value for key, value in attributes.items()
            }))
            stack.append((attributes.get("name", ""), None))
            return
        suite_name, record = stack[-1]
        if local == "testcase":
            record = [attributes, suite_name, None]
            records.append(record)
            stack.append((suite_name, record))
        elif local == "testsuite":
            if len(stack) == 1:
                suites.append(attributes)
            stack.append((attributes.get("name", suite_name), None))
        else:
            ignored = 1
            if record is not None and local in verdict_names:
                verdicts = record[2]
                if verdicts is None:
                    verdicts = record[2] = {}
                if local not in verdicts:
                    parts: list[str] = []
                    verdicts[local] = (attributes, parts)
                    parser.CharacterDataHandler = parts.append
                    capturing = True

    def end(_: str) -> None:
        nonlocal ignored, capturing
        if capturing:
            parser.CharacterDataHandler = None
            capturing = False
        if ignored:
            ignored -= 1
        else:
            stack.pop()

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(content, True)
    except (expat.ExpatError, ValueError, LookupError):
        raise Unusual from None
    (root_name, root), = roots
    return Reading(root_name, root, suites, [
        (attributes, suite_name, None if verdicts is None else _verdict(verdicts, verdict_tags))
        for attributes, suite_name, verdicts in records
    ])


def _verdict(
    verdicts: dict[str, tuple[dict[str, str], list[str]]], ranked: tuple[str, ...]
) -> Verdict:
    tag = next(tag for tag in ranked if tag in verdicts)
    attributes, parts = verdicts[tag]
    return tag, attributes, "".join(parts) if parts else None
