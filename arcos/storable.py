"""Which text a store can keep, decided in one place for every writer.

JSON strings may hold NUL and lone UTF-16 surrogates, but PostgreSQL refuses NUL in text
and surrogates cannot be encoded as UTF-8, so neither store can keep them. Input a client
chose (evidence fields, filters) is refused with `unstorable`; text a parser found in a
report (findings, summaries) is cleaned with `storable` and `scrub`, since a hostile
report must not make its own upload fail.
"""

from __future__ import annotations

import math
import re
from typing import Any

#: NUL and lone UTF-16 surrogates.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
#: A NUL as canonical JSON writes it: the escape backslash-u0000, after an even run of
#: backslashes (an odd run makes it an escaped backslash and the storable text "u0000").
ESCAPED_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


def unstorable(value: Any) -> bool:
    """Whether a JSON value holds a string (or object key) no store can keep."""
    return _problem(value, numbers=False) is not None


def storable_json_bytes(text: str) -> bytes | None:
    """JSON text (as `json.dumps` writes it) as UTF-8, or None when a string in it holds
    a NUL or a lone surrogate: the same verdict as `unstorable` on the decoded value, at
    C speed instead of a Python walk."""
    try:
        encoded = text.encode("utf-8")
    except UnicodeEncodeError:
        return None
    if "\\u0000" in text and ESCAPED_NUL.search(text):
        return None
    return encoded


def storable(value: str | None, limit: int | None = None) -> str | None:
    """Text a store can keep: without NUL or lone surrogates, and at most `limit` characters."""
    if value is None:
        return None
    cleaned = UNSTORABLE.sub("", value)
    return cleaned[:limit] if limit is not None else cleaned


def scrub(value: Any) -> Any:
    """A JSON value with text no store can keep removed and non-finite numbers as null."""
    if isinstance(value, str):
        return UNSTORABLE.sub("", value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {scrub(key): scrub(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(item) for item in value]
    return value


def json_problem(value: Any) -> str | None:
    """What makes a client's JSON value unfit to store, or None: text no store can keep
    (NUL, lone surrogates, in keys too) or a number that is not finite (`1e400` decodes
    to infinity, which SQLite would store and then serve as invalid JSON)."""
    return _problem(value, numbers=True)


def _problem(value: Any, numbers: bool) -> str | None:
    """The one walk of a JSON value (keys too): its first unstorable text, or with `numbers`
    also its first number that is not finite."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if UNSTORABLE.search(item):
                return "holds a NUL character or a lone UTF-16 surrogate; remove it"
        elif isinstance(item, float):
            if numbers and not math.isfinite(item):
                return "holds a number that is not finite (NaN, Infinity or beyond 1e308)"
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None
