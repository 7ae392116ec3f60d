"""The published schema of a visualization plugin's panel: declarative data, no markup.

A dashboard renders a panel from its kind, series and labels; nothing in it is HTML or
script, and strings are bounded, so a panel can be shown without trusting its plugin.
`pluginPanelSchema` serves this document. Its validator is built on the first check
(jsonschema is not a start-up import: arcos/rest/body_schema.py says why).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

_TEXT = {"type": "string", "maxLength": 200, "pattern": "^[^<>]*$"}
_NUMBER_OR_NULL = {"type": ["number", "null"]}

_AXIS = {
    "type": "object", "additionalProperties": False,
    "properties": {"label": _TEXT, "min": {"type": "number"}, "max": {"type": "number"},
                   "unit": {**_TEXT, "maxLength": 32}},
}

PANEL_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://arcos.dev/schemas/plugin-panel.json",
    "title": "ARCOS plugin panel",
    "description": "What a visualization plugin returns: a chart kind, labels along its axis "
    "and named series of numbers (one per label), each optionally drawn its own way, "
    "stacked, or on the right-hand axis. Text may not contain < or >.",
    "type": "object",
    "additionalProperties": False,
    "required": ["kind", "series"],
    "properties": {
        "kind": {"enum": ["line", "bar", "area", "scatter", "combo", "pie", "gauge", "table",
                          "stat", "heatmap"]},
        "title": _TEXT,
        "unit": {**_TEXT, "maxLength": 32},
        "labels": {"type": "array", "maxItems": 1000, "items": _TEXT},
        "axes": {"type": "object", "additionalProperties": False,
                 "properties": {"left": _AXIS, "right": _AXIS, "x": _AXIS}},
        "series": {
            "type": "array", "minItems": 1, "maxItems": 20,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "values"],
                "properties": {
                    "name": _TEXT,
                    "kind": {"enum": ["line", "bar", "area", "scatter"]},
                    "stack": {**_TEXT, "maxLength": 64},
                    "axis": {"enum": ["left", "right"]},
                    "values": {"type": "array", "maxItems": 1000, "items": _NUMBER_OR_NULL},
                },
            },
        },
    },
}



@cache
def _validator() -> Validator:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(PANEL_SCHEMA)


def panel_problems(panel: Any) -> list[str]:
    """Each way `panel` breaks the schema, as `path: message` sentences."""
    problems = []
    for error in sorted(_validator().iter_errors(panel), key=lambda e: list(e.path))[:20]:
        path = ".".join(str(part) for part in error.path) or "panel"
        problems.append(f"{path}: {error.message[:200]}")
    return problems
