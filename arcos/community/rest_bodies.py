"""OpenAPI schemas of the community's original REST bodies.

The original routes take an item wrapped under its kind's name plus how it is shared
(`{"pattern": {…}, "permission": "community", "anonymize": true}`), in snake_case with
lower-case enum values: not a GraphQL input type, so the rows describe their bodies here
(`RestRoute.body_schema`) for OpenAPI and the documentation endpoint.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from arcos.community.benchmark_comparison import Direction
from arcos.community.gsn import NodeType
from arcos.community.library_models import LibraryCategory
from arcos.community.sharing import Visibility
from arcos.community.threats_models import Severity, ThreatKind
from arcos.community.threats_tlp import Tlp

JsonSchema = dict[str, Any]

_TEXT: JsonSchema = {"type": "string"}
_TEXTS: JsonSchema = {"type": "array", "items": _TEXT}
_NUMBER: JsonSchema = {"type": "number"}


def _enum(values: type[Enum]) -> JsonSchema:
    return {"type": "string", "enum": [str(member.value).lower() for member in values]}


def _object(properties: dict[str, JsonSchema], required: tuple[str, ...] = ()) -> JsonSchema:
    return {"type": "object", "properties": properties, "required": list(required),
            "additionalProperties": False}


def shared(kind: str, item: JsonSchema, *, default: str = "community") -> JsonSchema:
    """`{kind: item, "permission": …, "anonymize": …}`; `default`: the visibility when
    `permission` is left out."""
    properties: dict[str, JsonSchema] = {kind: item}
    properties["permission"] = {**_enum(Visibility), "default": default}
    properties["anonymize"] = {"type": "boolean", "default": False}
    return _object(properties, (kind,))


PATTERN = shared("pattern", _object({
    "name": _TEXT, "category": _enum(LibraryCategory), "description": _TEXT,
    "pattern": {"type": "object", "description": "Its `metrics` list names the quality "
                "metrics it targets."},
    "tags": _TEXTS,
}, ("name", "category", "description", "pattern")))

PRACTICE = shared("practice", _object({
    "title": _TEXT, "category": _enum(LibraryCategory), "industry": _TEXT,
    "description": _TEXT, "steps": _TEXTS, "examples": _TEXTS, "references": _TEXTS,
}, ("title", "category", "description")))

#: A threat's TLP decides its visibility; `permission`, if sent, must agree with it.
THREAT = shared("threat", default="private", item=_object({
    "title": _TEXT, "kind": _enum(ThreatKind), "severity": _enum(Severity),
    "description": _TEXT, "indicators": {**_TEXTS, "description": "STIX 2.1 patterns."},
    "mitigations": _TEXTS,
    "affected_components": {"type": "array", "items": _object(
        {"package": {**_TEXT, "description": "A purl without a version, or a CPE 2.3 name."},
         "versions": {**_TEXT, "description": "`*` or comparisons such as >=2.0,<2.31.0."}},
        ("package",))},
    "tlp": _enum(Tlp), "recipients": _TEXTS,
}, ("title", "kind", "severity")))

STIX_BUNDLE: JsonSchema = {
    "type": "object", "required": ["type", "id", "objects"],
    "description": "A STIX 2.1 bundle; every object is kept as sent.",
    "properties": {"type": {"const": "bundle"}, "id": _TEXT,
                   "objects": {"type": "array", "items": {"type": "object"}}},
}

_GSN_NODE = _object({
    "id": _TEXT, "type": _enum(NodeType), "text": _TEXT, "supported_by": _TEXTS,
    "in_context_of": _TEXTS, "undeveloped": {"type": "boolean"}, "evidence_types": _TEXTS,
}, ("id", "type", "text"))

INDUSTRY_TEMPLATE = shared("template", default="private", item=_object({
    "key": _TEXT, "name": _TEXT, "description": _TEXT,
    "standards": {"type": "array", "items": _object({"name": _TEXT, "note": _TEXT}, ("name",))},
    "requirements": _TEXTS, "frameworks": _TEXTS,
    "argument": {"type": "array", "items": _GSN_NODE},
}, ("key", "name", "argument")))

COMPLIANCE_TEMPLATE = shared("template", default="private", item=_object({
    "key": _TEXT, "name": _TEXT, "version": _TEXT, "description": _TEXT,
    "controls": {"type": "array", "items": {
        "type": "object", "required": ["id", "title", "checks"],
        "properties": {"id": _TEXT, "title": _TEXT, "checklist": _TEXT,
                       "checks": {"type": "array", "items": {"type": "object"},
                                  "description": "{kind: evidence, types, days} | {kind: "
                                  "metric, expression, days} | {kind: sbom, days}"}}}},
}, ("key", "name", "controls")))

BENCHMARK = shared("benchmark", _object({
    "name": _TEXT, "industry": _TEXT, "project_type": _TEXT,
    "metrics": {"type": "array", "items": _object({
        "name": _TEXT, "direction": _enum(Direction), "p25": _NUMBER, "p50": _NUMBER,
        "p75": _NUMBER, "p90": _NUMBER, "mean": _NUMBER,
        "sample_size": {"type": "integer", "description": "1 or more."},
    }, ("name", "direction", "p25", "p50", "p75", "p90", "sample_size"))},
}, ("name", "industry", "project_type", "metrics")))

COMPARE: JsonSchema = {
    "type": "object", "required": ["benchmark_id"],
    "description": "Give `metrics` or `project`, not both.",
    "properties": {"benchmark_id": _TEXT,
                   "metrics": {"type": "object", "additionalProperties": _NUMBER},
                   "project": _TEXT},
    "additionalProperties": False,
}
