"""Safe JSON loading and type-checked access, so a hostile or mistyped document yields a 422
naming the offending path instead of a TypeError deep inside a parser."""

from __future__ import annotations

import json
import math
from typing import Any

from arcos.formats.errors import UNPROCESSABLE, ArtifactRefused


def load(content: bytes, *, what: str = "JSON document") -> Any:
    """Parse JSON (UTF-8/16/32, optional BOM); refuse malformed, NaN/Infinity or too deep input."""
    try:
        return json.loads(content, parse_constant=_refuse_constant)
    except RecursionError:
        raise ArtifactRefused(
            UNPROCESSABLE, f"the {what} is nested too deeply to be a real report"
        ) from None
    except json.JSONDecodeError as error:
        raise ArtifactRefused(
            UNPROCESSABLE,
            f"malformed {what} at line {error.lineno}, column {error.colno}: {error.msg}; "
            "upload the complete file",
        ) from None
    except (UnicodeDecodeError, ValueError) as error:
        raise ArtifactRefused(UNPROCESSABLE, f"unreadable {what}: {error}") from None


def _refuse_constant(name: str) -> Any:
    raise ArtifactRefused(UNPROCESSABLE, f"JSON does not allow {name}; write numbers or null")


def expect_object(value: Any, path: str) -> dict[str, Any]:
    """`value` as an object, or 422 naming `path`."""
    if not isinstance(value, dict):
        raise ArtifactRefused(
            UNPROCESSABLE, f"{path} must be a JSON object, not {_kind(value)}"
        )
    return value


def expect_list(value: Any, path: str, *, missing_ok: bool = True) -> list[Any]:
    """`value` as an array (None counts as empty when `missing_ok`), or 422 naming `path`."""
    if value is None and missing_ok:
        return []
    if not isinstance(value, list):
        raise ArtifactRefused(UNPROCESSABLE, f"{path} must be a JSON array, not {_kind(value)}")
    return value


def objects(value: Any) -> list[dict[str, Any]]:
    """The objects inside an optional array; anything else is skipped (lenient leaves)."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


def mapping(value: Any) -> dict[str, Any]:
    """An optional object, or an empty one when absent or mistyped."""
    return value if isinstance(value, dict) else {}


def text(value: Any) -> str | None:
    """A string leaf; numbers are accepted as their decimal text, anything else is None."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def texts(value: Any) -> tuple[str, ...]:
    """The string leaves of an optional array."""
    if not isinstance(value, list):
        return ()
    return tuple(item for item in (text(entry) for entry in value) if item)


def number(value: Any) -> float | None:
    """A finite number, from a JSON number or a numeric string; otherwise None."""
    if isinstance(value, bool):
        return None
    if not isinstance(value, int | float | str):
        return None
    try:
        result = float(value.strip() if isinstance(value, str) else value)
    except (ValueError, OverflowError):
        return None
    return result if math.isfinite(result) else None


def integer(value: Any) -> int | None:
    """A whole number (or a string holding one); otherwise None."""
    result = number(value)
    if result is None or not result.is_integer():
        return None
    return int(result)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {
        dict: "an object", list: "an array", str: "a string", bool: "a boolean",
        int: "a number", float: "a number",
    }.get(type(value), type(value).__name__)
