"""Evidence before it is stored, and the rules it must pass to be stored.

Every producer (GraphQL input, REST body, webhook mapping, artifact parser) builds an
`EvidenceDraft`; `check_draft` is the one place that decides what is acceptable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from arcos.evidence.canonical import JsonTooDeep, canonical_text, json_depth
from arcos.problems import Problem, ProblemCode
from arcos.storable import UNSTORABLE, storable_json_bytes, unstorable

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
    #: `data` and `metadata` as canonical JSON, set by `check_draft` when the draft passes,
    #: so storing it neither encodes nor walks the values again.
    canonical: dict[str, bytes] | None = field(default=None, repr=False, compare=False)
    #: The hex SHA-256 of canonical `data`, computed once when first needed.
    sha256: str | None = field(default=None, repr=False, compare=False)

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


def check_draft(draft: EvidenceDraft, limits: DraftLimits, prefix: str = "") -> list[Problem]:
    """Every problem with `draft`, each naming the field (under `prefix`) and how to fix it.

    A draft that passes keeps its canonical JSON in `draft.canonical`.
    """
    errors: list[Problem] = []

    def refuse(name: str, message: str, code: ProblemCode = ProblemCode.INVALID) -> None:
        errors.append(Problem(field=prefix + name, message=message, code=code))

    values = {"data": _JsonObject.examine(draft.data, limits),
              "metadata": _JsonObject.examine(draft.metadata, limits)}
    texts = (draft.type, draft.source, draft.project, draft.commit_sha, draft.ref,
             draft.idempotency_key)
    if (all(isinstance(text, str) or text is None for text in texts)
            and not UNSTORABLE.search("".join(filter(None, texts)))
            and not values["data"].unstorable and not values["metadata"].unstorable):
        names: tuple[str, ...] = ()  # nothing unstorable: one search instead of eight walks
    else:
        names = ("type", "source", "project", "commit_sha", "ref", "idempotency_key", "data",
                 "metadata")
    for name in names:
        if values[name].unstorable if name in values else unstorable(getattr(draft, name)):
            label = _camel(name)
            refuse(label, f"{label} contains a NUL character or a lone UTF-16 surrogate; "
                   "remove it or encode the text properly")
            return errors
    for name in ("type", "source"):
        value = getattr(draft, name)
        if not value:
            refuse(name, f"{name} is required", ProblemCode.REQUIRED)
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
    for name, value in values.items():
        if value.problem is not None:
            message, code = value.problem
            refuse(name, f"{name} {message}", code)
    if not errors:
        draft.canonical = {name: value.canonical for name, value in values.items()}
    return errors


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.capitalize() for part in rest)


@dataclass
class _JsonObject:
    """What `check_draft` learns about `data` or `metadata`, encoding it once.

    One Python walk (the depth) and the rest at C speed: the canonical encoder refuses
    NaN and Infinity, and `storable_json_bytes` reads NUL and lone surrogates off the
    text. Only a value that fails one of these is walked again, to tell a
    NUL from the failure (the unstorable text is reported first, as for every field).
    """

    canonical: bytes = b""
    problem: tuple[str, ProblemCode] | None = None
    unstorable: bool = False

    @classmethod
    def examine(cls, value: Any, limits: DraftLimits) -> _JsonObject:
        if not isinstance(value, dict):
            return cls.refused(value, f"must be a JSON object, not {_json_kind(value)}")
        # Encoded first: a text with no more '{' and '[' than the depth limit cannot nest
        # deeper (each level opens one; strings only add to the count), so the Python walk
        # of the depth runs only for larger values, or when the encoder refused (the depth
        # is reported first, as it always was).
        text: str | None = None
        try:
            text = canonical_text(value)
        except (ValueError, RecursionError) as refused:  # NaN or Infinity; very deep
            failure: Exception = refused
        limit = limits.max_json_depth
        if text is None or text.count("{") + text.count("[") > limit:
            try:
                json_depth(value, limit)
            except JsonTooDeep as exc:
                return cls.refused(value, f"is {exc}", ProblemCode.TOO_LARGE)
        if text is None:
            if not isinstance(failure, ValueError):
                raise failure
            return cls.refused(value, "must not contain NaN or Infinity")
        canonical = storable_json_bytes(text)
        if canonical is None:
            return cls(unstorable=True)
        if len(canonical) > limits.max_evidence_bytes:
            return cls(canonical, (
                f"is {len(canonical)} bytes as canonical JSON; "
                f"the limit is {limits.max_evidence_bytes}",
                ProblemCode.TOO_LARGE,
            ))
        return cls(canonical)

    @classmethod
    def refused(
        cls, value: Any, message: str, code: ProblemCode = ProblemCode.INVALID
    ) -> _JsonObject:
        return cls(problem=(message, code), unstorable=unstorable(value))


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
