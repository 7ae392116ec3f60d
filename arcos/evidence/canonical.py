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


def canonical_json(value: Any) -> bytes:
    """The canonical UTF-8 encoding of a JSON value."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def content_sha256(value: Any) -> str:
    """Hex SHA-256 of the canonical encoding."""
    return hashlib.sha256(canonical_json(value)).hexdigest()


def json_depth(value: Any, limit: int) -> int:
    """Nesting depth of a JSON value, iteratively so hostile input cannot blow the stack.

    Raises JsonTooDeep as soon as `limit` is passed.
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            raise JsonTooDeep(f"nested {depth} levels deep; the limit is {limit}")
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest
