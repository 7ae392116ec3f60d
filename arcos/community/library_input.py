"""Checking what a pattern or practice is shared with: every bound, every problem at once.

Text shared anonymised is checked twice, as sent (so the scrubber never works on an
unbounded input) and as scrubbed (labels such as `[redacted:email]` can make text longer,
and what is stored must be within bounds too).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from arcos.community.scrub import Scrubber
from arcos.community.scrubbed_bounds import refuse_grown
from arcos.problems import Problem, ProblemCode, Refused
from arcos.storable import json_problem

MAX_TITLE = 200
MAX_DESCRIPTION = 20_000
#: Bytes of a pattern's JSON, compactly encoded.
MAX_PATTERN_BYTES = 64 * 1024
MAX_PATTERN_DEPTH = 32
MAX_TAGS = 20
MAX_TAG = 50
MAX_METRICS = 20
#: Entries of a practice's steps, examples and references, and characters of each.
MAX_ENTRIES = 50
MAX_ENTRY = 2_000
MAX_INDUSTRY = 64
#: A quality-metric name as intake stores it (arcos.intake.models.QualityMetric.name).
#: What a tag may hold: no bar (tags are stored as `|tag|tag|` for filtering) and no
#: control characters.
TAG = re.compile(r"^[^|\x00-\x1f\x7f]+$")
METRIC_NAME = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,63}$")


class Problems:
    """Problems collected while checking one input."""

    def __init__(self) -> None:
        self.found: list[Problem] = []

    def add(self, field_name: str, message: str, code: ProblemCode = ProblemCode.INVALID) -> None:
        self.found.append(Problem(field_name, message, code))

    def raise_any(self) -> None:
        if self.found:
            raise Refused(self.found)


def text(problems: Problems, name: str, value: str, maximum: int) -> str:
    """`value` stripped; a problem when empty or longer than `maximum`."""
    value = value.strip()
    unfit = json_problem(value)
    if unfit is not None:
        problems.add(name, f"{name} {unfit}")
    elif not value:
        problems.add(name, f"{name} must not be empty", ProblemCode.REQUIRED)
    elif len(value) > maximum:
        problems.add(name, f"{name} must be at most {maximum} characters (got {len(value)})",
                     ProblemCode.TOO_LARGE)
    return value


def entries(problems: Problems, name: str, values: list[str], most: int, longest: int
            ) -> list[str]:
    """Non-empty stripped entries, at most `most` of at most `longest` characters each."""
    kept = [value.strip() for value in values if value.strip()]
    if len(kept) > most:
        problems.add(name, f"at most {most} {name} (got {len(kept)})", ProblemCode.TOO_LARGE)
    for position, value in enumerate(kept):
        unfit = json_problem(value)
        if unfit is not None:
            problems.add(f"{name}.{position}", f"each of {name} {unfit}")
        elif len(value) > longest:
            problems.add(f"{name}.{position}", f"each of {name} must be at most {longest} "
                         f"characters (got {len(value)})", ProblemCode.TOO_LARGE)
    return kept


def tags(problems: Problems, values: list[str]) -> list[str]:
    """Lower-case tags without repeats."""
    kept = entries(problems, "tags", [value.lower() for value in values], MAX_TAGS, MAX_TAG)
    for position, tag in enumerate(kept):
        if json_problem(tag) is None and not TAG.match(tag):
            problems.add(f"tags.{position}", f"tag {tag[:60]!r} must not hold '|' or "
                         "control characters")
    return list(dict.fromkeys(kept))


def tag_key(tag: str) -> str:
    """How a tag sits in a pattern's `tag_index`: between bars."""
    return f"|{tag.strip().lower()}|"


def _depth(value: Any) -> int:
    """How deeply `value` nests, walked without recursion (input may nest deeply)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > MAX_PATTERN_DEPTH:
            return deepest
        children = item.values() if isinstance(item, dict) else item \
            if isinstance(item, list) else ()
        stack.extend((child, level + 1) for child in children)
    return deepest


def pattern_json(problems: Problems, value: Any) -> list[str]:
    """Check a pattern's JSON; returns the metric names it targets (its `metrics` list)."""
    if not isinstance(value, dict):
        problems.add("pattern", "pattern must be a JSON object, e.g. {\"metrics\": "
                     "[\"coverage.line_rate\"], \"practice\": \"...\"}")
        return []
    if _depth(value) > MAX_PATTERN_DEPTH:
        problems.add("pattern", f"pattern nests deeper than {MAX_PATTERN_DEPTH} levels",
                     ProblemCode.TOO_LARGE)
        return []
    unfit = json_problem(value)
    if unfit is not None:
        problems.add("pattern", f"pattern {unfit}")
        return []
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_PATTERN_BYTES:
        problems.add("pattern", f"pattern must be at most {MAX_PATTERN_BYTES} bytes of JSON "
                     f"(got {size})", ProblemCode.TOO_LARGE)
        return []
    metrics = value.get("metrics", [])
    if not isinstance(metrics, list) or not all(isinstance(m, str) for m in metrics):
        problems.add("pattern.metrics", "pattern.metrics must be a list of quality-metric "
                     "names, e.g. [\"coverage.line_rate\"]")
        return []
    names = list(dict.fromkeys(metrics))
    if len(names) > MAX_METRICS:
        problems.add("pattern.metrics", f"at most {MAX_METRICS} metrics (got {len(names)})",
                     ProblemCode.TOO_LARGE)
    for position, name in enumerate(names):
        if not METRIC_NAME.match(name):
            problems.add(f"pattern.metrics.{position}", f"{name[:80]!r} is not a metric name: "
                         "lower-case letters, digits, '.', '_', '-', at most 64 characters")
    return names


@dataclass(frozen=True)
class PatternDraft:
    """A pattern as shared or as edited (None: unchanged, when editing)."""

    name: str | None = None
    category: str | None = None
    description: str | None = None
    pattern: Any = None
    tags: list[str] | None = None
    #: Derived by `checked_pattern` from `pattern`.
    metrics: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PracticeDraft:
    """A practice as added or as edited (None: unchanged, when editing)."""

    title: str | None = None
    category: str | None = None
    industry: str | None = None
    description: str | None = None
    steps: list[str] | None = None
    examples: list[str] | None = None
    references: list[str] | None = None


def checked_pattern(draft: PatternDraft) -> PatternDraft:
    """The draft normalised, or Refused listing every problem."""
    problems = Problems()
    changes: dict[str, Any] = {}
    if draft.name is not None:
        changes["name"] = text(problems, "name", draft.name, MAX_TITLE)
    if draft.description is not None:
        changes["description"] = text(problems, "description", draft.description,
                                      MAX_DESCRIPTION)
    if draft.tags is not None:
        changes["tags"] = tags(problems, draft.tags)
    if draft.pattern is not None:
        changes["metrics"] = pattern_json(problems, draft.pattern)
    problems.raise_any()
    return replace(draft, **changes)


def checked_practice(draft: PracticeDraft) -> PracticeDraft:
    """The draft normalised, or Refused listing every problem."""
    problems = Problems()
    changes: dict[str, Any] = {}
    if draft.title is not None:
        changes["title"] = text(problems, "title", draft.title, MAX_TITLE)
    if draft.description is not None:
        changes["description"] = text(problems, "description", draft.description,
                                      MAX_DESCRIPTION)
    if draft.industry is not None:
        industry = draft.industry.strip().lower()
        # "" stays "": it clears the industry (None leaves it unchanged).
        changes["industry"] = text(problems, "industry", industry, MAX_INDUSTRY) \
            if industry else ""
    for name in ("steps", "examples", "references"):
        values = getattr(draft, name)
        if values is not None:
            changes[name] = entries(problems, name, values, MAX_ENTRIES, MAX_ENTRY)
    problems.raise_any()
    return replace(draft, **changes)


def _scrubbed_list(scrub: Callable[[str], str], values: list[str] | None) -> list[str] | None:
    return None if values is None else [scrub(value) for value in values]


def _each(name: str, values: list[str] | None, limit: int) -> list[tuple[str, str, int]]:
    """(`name.i`, value, limit) for each entry of a list field, for `refuse_grown`."""
    return [(f"{name}.{i}", value, limit) for i, value in enumerate(values or [])]


def scrubbed_pattern(draft: PatternDraft, scrubber: Scrubber) -> PatternDraft:
    """Every free-text and JSON field scrubbed, then checked again (text that scrubbing
    lengthened past its limit first, in words saying so)."""
    scrub = scrubber.text
    scrubbed = replace(
        draft,
        name=scrub(draft.name) if draft.name is not None else None,
        description=scrub(draft.description) if draft.description is not None else None,
        tags=_scrubbed_list(scrub, draft.tags),
        pattern=scrubber.json(draft.pattern) if draft.pattern is not None else None,
    )
    refuse_grown([("name", scrubbed.name, MAX_TITLE),
                  ("description", scrubbed.description, MAX_DESCRIPTION),
                  *_each("tags", scrubbed.tags, MAX_TAG)])
    return checked_pattern(scrubbed)


def scrubbed_practice(draft: PracticeDraft, scrubber: Scrubber) -> PracticeDraft:
    """Every free-text field scrubbed, then checked again (text that scrubbing lengthened
    past its limit first, in words saying so)."""
    scrub = scrubber.text
    scrubbed = replace(
        draft,
        title=scrub(draft.title) if draft.title is not None else None,
        description=scrub(draft.description) if draft.description is not None else None,
        industry=scrub(draft.industry) if draft.industry is not None else None,
        steps=_scrubbed_list(scrub, draft.steps),
        examples=_scrubbed_list(scrub, draft.examples),
        references=_scrubbed_list(scrub, draft.references),
    )
    refuse_grown([("title", scrubbed.title, MAX_TITLE),
                  ("description", scrubbed.description, MAX_DESCRIPTION),
                  ("industry", scrubbed.industry, MAX_INDUSTRY),
                  *(text for name in ("steps", "examples", "references")
                    for text in _each(name, getattr(scrubbed, name), MAX_ENTRY))])
    return checked_practice(scrubbed)
