"""Canonical JSON: the byte form evidence content is hashed and size-checked in.

Keys sorted, no insignificant whitespace, UTF-8 without escaping. A client can recompute
`sha256` of the `data` it submitted with the same three rules and compare.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


class JsonTooDeep(ValueError):
    """The value nests deeper than allowed."""


#: `json.dumps` arguments for the canonical form.
CANONICAL_FORM: dict[str, Any] = {
    "sort_keys": True, "separators": (",", ":"), "ensure_ascii": False, "allow_nan": False,
}


def canonical_text(value: Any) -> str:
    """The canonical JSON text of a value: the one encoder, so "each item is encoded once"
    can be counted (tests/test_canonical_once.py)."""
    return json.dumps(value, **CANONICAL_FORM)


def canonical_json(value: Any) -> bytes:
    """The canonical UTF-8 encoding of a JSON value."""
    return canonical_text(value).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256: evidence `sha256` and webhook body digests, counted like the encoder."""
    return hashlib.sha256(data).hexdigest()


def wire_size(canonical: bytes) -> int:
    """How long the canonical JSON is as ARCOS sends it: with every non-ASCII character
    escaped (`\\uXXXX`, two of them past U+FFFF), as JSON responses and events carry it.

    Up to three times the UTF-8 size (`é` is 2 bytes, 6 escaped), so a response bound
    counted in UTF-8 bytes would let non-ASCII data through at three times the bound.
    Counted at C speed: ASCII characters cost 1 (DEL 6, as `json.dumps` escapes it only
    when escaping non-ASCII), other BMP characters 6, the rest 12.
    """
    deletes = canonical.count(b"\x7f")
    if canonical.isascii():
        return len(canonical) + 5 * deletes
    text = canonical.decode("utf-8")
    ascii_count = len(text.encode("ascii", "ignore"))
    astral_count = len(text.encode("utf-16-le")) // 2 - len(text)
    other_count = len(text) - ascii_count - astral_count
    return ascii_count + 5 * deletes + 6 * other_count + 12 * astral_count


#: What `size_up_to` counts for every key, item and scalar besides its text: more than
#: most take, so that reaching a cap of 256 KiB takes at most 4,096 steps (about 1 ms);
#: anything with more elements costs more than a thread hand-off to check anyway.
ELEMENT_BYTES = 64


def size_up_to(value: Any, cap: int) -> int:
    """About the canonical JSON size of `value`, but at most `cap`: the walk stops as soon
    as it knows the size reaches `cap`, so it takes at most `cap / ELEMENT_BYTES` steps.

    For deciding whether work on `value` is large before doing it.
    """
    size = 0
    stack = [value]
    while stack:
        item = stack.pop()
        size += ELEMENT_BYTES + (len(item) if isinstance(item, str) else 0)
        if isinstance(item, dict | list):
            # Every child costs at least ELEMENT_BYTES: stop before pushing too many.
            children = len(item) * (2 if isinstance(item, dict) else 1)
            if size + ELEMENT_BYTES * children >= cap:
                return cap
            stack.extend(item.keys() if isinstance(item, dict) else item)
            if isinstance(item, dict):
                stack.extend(item.values())
        if size >= cap:
            return cap
    return size


#: The types json.loads produces for scalars: a container holding only these has no
#: deeper level, which `set(map(type, ...))` finds without a Python step per element.
_SCALARS = frozenset((str, int, float, bool, type(None)))


def json_depth(value: Any, limit: int) -> int:
    """Nesting depth of a JSON value, one level at a time so hostile input cannot blow the
    stack, and without a Python step per scalar (a 4 MB document: 90 ms -> 10 ms).

    Raises JsonTooDeep as soon as `limit` is passed.
    """
    depth = 0
    level = [value] if isinstance(value, dict | list) else []
    while level:
        depth += 1
        if depth > limit:
            raise JsonTooDeep(f"nested {depth} levels deep; the limit is {limit}")
        deeper: list[Any] = []
        for item in level:
            children = item.values() if isinstance(item, dict) else item
            if not _SCALARS.issuperset(map(type, children)):
                deeper.extend(child for child in children if isinstance(child, dict | list))
        level = deeper
    return depth
