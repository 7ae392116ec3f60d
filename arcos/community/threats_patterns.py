"""STIX patterns of a threat's indicators, checked with stix2-patterns (the OASIS
reference parser) before anything is stored. Parsing is ANTLR work on untrusted text, so
patterns are bounded in length and number and checked in a worker thread.

The parser (stix2-patterns and its ANTLR runtime) is imported on the first check, in that
thread, not at start-up; the app imports it in the background once it serves
(`DEFERRED_IMPORTS`, listed in the community domain)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from arcos.problems import Problem, ProblemCode

#: The parser's modules: imported on first use (see the module's docstring).
DEFERRED_IMPORTS = ("stix2patterns.validator",)
MAX_PATTERN_LENGTH = 4_000
MAX_INDICATORS = 50
#: Deeper nesting than this is refused before parsing: ANTLR recurses once per level.
MAX_NESTING = 32


def _nesting(pattern: str) -> int:
    """The deepest nesting of ( and [ outside quoted strings."""
    depth = deepest = 0
    quoted = False
    for character in pattern:
        if character == "'":
            quoted = not quoted
        elif not quoted and character in "([":
            depth += 1
            deepest = max(deepest, depth)
        elif not quoted and character in ")]":
            depth -= 1
    return deepest


def pattern_problem(pattern: str) -> str | None:
    """What is wrong with one STIX 2.1 pattern, or None when stix2-patterns accepts it."""
    if not pattern.strip():
        return "the pattern is empty; write e.g. [file:hashes.'SHA-256' = '…']"
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"the pattern is longer than {MAX_PATTERN_LENGTH} characters"
    if _nesting(pattern) > MAX_NESTING:
        return f"the pattern nests brackets deeper than {MAX_NESTING} levels"
    from stix2patterns.validator import run_validator

    try:
        errors = run_validator(pattern, stix_version="2.1")
    except Exception as error:  # the parser failing on this text is the answer
        return f"the pattern could not be parsed ({type(error).__name__})"
    if not errors:
        return None
    return "; ".join(error.removeprefix("FAIL: ") for error in errors)[:500]


def _check_all(patterns: Sequence[str], field: str, label: str) -> list[Problem]:
    return [
        Problem(f"{field}.{index}", f"{label} {index + 1}: {problem}", ProblemCode.INVALID)
        for index, pattern in enumerate(patterns)
        if (problem := pattern_problem(pattern)) is not None
    ]


async def check_patterns(
    patterns: Sequence[str], field: str = "indicators", label: str = "indicator"
) -> list[Problem]:
    """A problem per invalid pattern, naming which one (`indicators.2`) and what is wrong."""
    if len(patterns) > MAX_INDICATORS:
        return [Problem(field, f"at most {MAX_INDICATORS} indicators", ProblemCode.TOO_LARGE)]
    if not patterns:
        return []
    return await asyncio.to_thread(_check_all, list(patterns), field, label)
