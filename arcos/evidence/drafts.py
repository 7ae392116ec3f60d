"""Evidence before it is stored, and the rules it must pass to be stored.

Every producer (GraphQL input, REST body, webhook mapping, artifact parser) builds an
`EvidenceDraft`; `check_draft` is the one place that decides what is acceptable.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from arcos.evidence.canonical import JsonTooDeep, canonical_json, json_depth
from arcos.graphql.errors import UserError, UserErrorCode

IDENTIFIER = re.compile(r"^[a-z][a-z0-9_.\-]{0,63}$")
SLUG = re.compile(r"^[a-z0-9][a-z0-9._\-]*(/[a-z0-9._\-]+)*$")
COMMIT_SHA = re.compile(r"^[0-9a-f]{7,64}$")
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
MAX_SLUG_LENGTH = 255
MAX_REF_LENGTH = 255
MAX_IDEMPOTENCY_KEY_LENGTH = 255

#: The same rules as JSON Schema, published in the OpenAPI document. Slugs and SHAs are
#: lower-cased before checking, so their published patterns accept either case.
FIELD_CONSTRAINTS: dict[str, dict[str, object]] = {
    "identifier": {"pattern": IDENTIFIER.pattern, "minLength": 1, "maxLength": 64},
    "project": {
        "pattern": r"^[A-Za-z0-9][A-Za-z0-9._\-]*(/[A-Za-z0-9._\-]+)*$",
        "maxLength": MAX_SLUG_LENGTH,
    },
    "commit_sha": {"pattern": r"^[0-9a-fA-F]{7,64}$"},
    "ref": {"pattern": r"^[^\x00-\x1f\x7f]+$", "minLength": 1, "maxLength": MAX_REF_LENGTH},
    "idempotency_key": {"minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY_LENGTH},
}


#: NUL and lone UTF-16 surrogates: valid in JSON strings, but no store can keep them
#: (PostgreSQL refuses NUL in text, and surrogates cannot be encoded as UTF-8).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable(value: Any) -> bool:
    """Whether a JSON value holds a string (or object key) no store can keep."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if UNSTORABLE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


@dataclass
class EvidenceDraft:
    """Evidence as submitted, normalised (lower-case slug and sha) but not yet checked."""

    type: str
    source: str
    data: Any
    project: str | None = None
    commit_sha: str | None = None
    ref: str | None = None
    metadata: Any = field(default_factory=dict)
    idempotency_key: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.project, str):
            self.project = self.project.lower()
        if isinstance(self.commit_sha, str):
            self.commit_sha = self.commit_sha.lower()
        if self.metadata is None:
            self.metadata = {}


@dataclass(frozen=True)
class DraftLimits:
    max_json_depth: int
    max_evidence_bytes: int


def check_draft(draft: EvidenceDraft, limits: DraftLimits, prefix: str = "") -> list[UserError]:
    """Every problem with `draft`, each naming the field (under `prefix`) and how to fix it."""
    errors: list[UserError] = []

    def refuse(name: str, message: str, code: UserErrorCode = UserErrorCode.INVALID) -> None:
        errors.append(UserError(field=prefix + name, message=message, code=code))

    for name in ("type", "source", "project", "commit_sha", "ref", "idempotency_key",
                 "data", "metadata"):
        if unstorable(getattr(draft, name)):
            label = _camel(name)
            refuse(label, f"{label} contains a NUL character or a lone UTF-16 surrogate; "
                   "remove it or encode the text properly")
            return errors
    for name in ("type", "source"):
        value = getattr(draft, name)
        if not value:
            refuse(name, f"{name} is required", UserErrorCode.REQUIRED)
        elif not IDENTIFIER.match(value):
            refuse(
                name,
                f"{name} must be 1-64 characters of lower-case letters, digits, '_', '.' or '-', "
                f"starting with a letter (got {value!r:.80})",
            )
    if draft.project is not None and (
        len(draft.project) > MAX_SLUG_LENGTH or not SLUG.match(draft.project)
    ):
        refuse(
            "project",
            "project must be a slug like 'github.com/owner/repo': letters, digits, '.', '_', "
            f"'-' in '/'-separated parts, at most {MAX_SLUG_LENGTH} characters",
        )
    if draft.commit_sha is not None and not COMMIT_SHA.match(draft.commit_sha):
        refuse("commitSha", "commitSha must be 7-64 hexadecimal characters")
    if draft.ref is not None and (
        len(draft.ref) > MAX_REF_LENGTH or CONTROL_CHARS.search(draft.ref) or not draft.ref
    ):
        refuse("ref", f"ref must be 1-{MAX_REF_LENGTH} characters without control characters")
    if draft.idempotency_key is not None and not (
        0 < len(draft.idempotency_key) <= MAX_IDEMPOTENCY_KEY_LENGTH
    ):
        refuse(
            "idempotencyKey",
            f"idempotencyKey must be 1-{MAX_IDEMPOTENCY_KEY_LENGTH} characters",
        )
    for name in ("data", "metadata"):
        problem = _json_object_problem(getattr(draft, name), limits)
        if problem is not None:
            message, code = problem
            refuse(name, f"{name} {message}", code)
    return errors


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.capitalize() for part in rest)


def _json_object_problem(
    value: Any, limits: DraftLimits
) -> tuple[str, UserErrorCode] | None:
    if not isinstance(value, dict):
        return f"must be a JSON object, not {_json_kind(value)}", UserErrorCode.INVALID
    try:
        json_depth(value, limits.max_json_depth)
    except JsonTooDeep as exc:
        return f"is {exc}", UserErrorCode.TOO_LARGE
    if _has_non_finite_number(value):
        return "must not contain NaN or Infinity", UserErrorCode.INVALID
    size = len(canonical_json(value))
    if size > limits.max_evidence_bytes:
        return (
            f"is {size} bytes as canonical JSON; the limit is {limits.max_evidence_bytes}",
            UserErrorCode.TOO_LARGE,
        )
    return None


def _has_non_finite_number(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__
