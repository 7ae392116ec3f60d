"""A plugin's manifest: what it is, which version, what it may do, and when it runs.

`parse_manifest` is the one place that decides whether a manifest is acceptable. It reports
every problem at once (a plugin author fixes them in one round), each naming the field
(`manifest.version`) and saying what is allowed. The parsed `Manifest` is normalised
(permissions and tags sorted, defaults filled in), so `canonical()` is the same bytes for
the same meaning: it is what the server signs.

Decisions: `description` and `author` are optional and default to "" (the original request
shape has neither); `permissions`, `triggers` and `tags` default to empty; duplicates in
`permissions` or `tags` are refused rather than silently dropped, since a duplicate is
usually a typo for another value. `plugin_id` is accepted as an alias of `id` (the original
shape); giving both with different values is refused.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from arcos.evidence.canonical import canonical_json
from arcos.evidence.drafts import IDENTIFIER, MAX_SLUG_LENGTH, SLUG
from arcos.problems import Problem, ProblemCode, Refused
from arcos.storable import unstorable

MAX_CODE_BYTES = 64 * 1024
MAX_CODE_LINES = 2000

MAX_ID_LENGTH = 100
MAX_NAME_LENGTH = 100
MAX_VERSION_LENGTH = 64
MAX_DESCRIPTION_LENGTH = 2000
MAX_AUTHOR_LENGTH = 200
MAX_ENTRY_POINT_LENGTH = 64
MAX_TRIGGERS = 10
MAX_TAGS = 20
MAX_TAG_LENGTH = 32
MAX_HOMEPAGE_LENGTH = 2048

#: `acme.coverage_gate`, `coverage_gate`, `com.example.ci.sbom`: dot-separated parts of
#: lower-case letters, digits and `_`, each starting with a letter.
PLUGIN_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
#: Semantic Versioning 2.0.0 (semver.org, section 2, 9 and 10): no leading zeros in numeric
#: parts or numeric pre-release identifiers; pre-release and build identifiers non-empty.
_NUMBER = r"(0|[1-9][0-9]*)"
_PRE_PART = r"(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"
_BUILD_PART = r"[0-9A-Za-z-]+"
SEMVER = re.compile(
    rf"^{_NUMBER}\.{_NUMBER}\.{_NUMBER}"
    rf"(?:-({_PRE_PART}(?:\.{_PRE_PART})*))?"
    rf"(?:\+({_BUILD_PART}(?:\.{_BUILD_PART})*))?$"
)
TAG = re.compile(rf"^[a-z0-9][a-z0-9._-]{{0,{MAX_TAG_LENGTH - 1}}}$")
ENTRY_POINT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: Control characters other than tab and newline, which a description may hold.
CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class PluginKind(StrEnum):
    """What a plugin's result means to the host (the manifest's `type`)."""

    COLLECTOR = "collector"
    METRIC = "metric"
    COMPLIANCE = "compliance"
    VISUALIZATION = "visualization"


class Permission(StrEnum):
    """What the host may do with a plugin's input and result on the caller's behalf."""

    EVIDENCE_READ = "evidence.read"
    EVIDENCE_WRITE = "evidence.write"
    METRICS_WRITE = "metrics.write"


TRIGGER_EVENTS = ("evidence.added",)


@dataclass(frozen=True)
class Trigger:
    """Run the plugin in the background after `event`, optionally only for one evidence
    type and/or one project."""

    event: str = "evidence.added"
    type: str | None = None
    project: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"event": self.event}
        if self.type is not None:
            out["type"] = self.type
        if self.project is not None:
            out["project"] = self.project
        return out


@dataclass(frozen=True)
class Manifest:
    """A checked, normalised manifest. `kind` is the manifest's `type`."""

    id: str
    name: str
    version: str
    kind: PluginKind
    description: str
    author: str
    permissions: tuple[Permission, ...]
    entry_point: str
    triggers: tuple[Trigger, ...] = ()
    tags: tuple[str, ...] = ()
    homepage: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The normalised manifest with the issue's field names (`type`, not `kind`)."""
        return {
            "id": self.id,
            "name": self.name,
            "version": self.version,
            "type": self.kind.value,
            "description": self.description,
            "author": self.author,
            "permissions": [p.value for p in self.permissions],
            "entry_point": self.entry_point,
            "triggers": [t.to_json() for t in self.triggers],
            "tags": list(self.tags),
            "homepage": self.homepage,
        }

    def canonical(self) -> bytes:
        """The bytes that are signed: canonical JSON of `to_json()`."""
        return canonical_json(self.to_json())


FIELDS = ("id", "name", "version", "type", "description", "author", "permissions",
          "entry_point", "triggers", "tags", "homepage")
ALIASES = {"plugin_id": "id"}
TRIGGER_FIELDS = ("event", "type", "project")


def semver_key(version: str) -> tuple[Any, ...]:
    """A sort key that orders versions as Semantic Versioning 2.0.0 section 11 does.

    A release sorts after its pre-releases; pre-release identifiers compare numerically
    when numeric, in ASCII order otherwise, numeric before alphanumeric, and a longer list
    after its prefix. Build metadata does not count, so `1.0.0+a` and `1.0.0+b` have equal
    keys. Raises ValueError for anything that is not a semantic version.
    """
    match = SEMVER.fullmatch(version) if isinstance(version, str) else None
    if match is None:
        raise ValueError(f"not a semantic version: {version!r:.80}")
    major, minor, patch, pre, _build = match.groups()
    if pre is None:
        return (int(major), int(minor), int(patch), 1, ())
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (int(major), int(minor), int(patch), 0, parts)


def check_code_size(code: object) -> list[Problem]:
    """The host's first check of plugin source, before any worker sees it: a string of at
    most MAX_CODE_BYTES bytes of UTF-8 and MAX_CODE_LINES lines."""
    if not isinstance(code, str):
        return [Problem("code", "code must be a string of Python source", ProblemCode.INVALID)]
    if not code.strip():
        return [Problem("code", "code is required", ProblemCode.REQUIRED)]
    if len(code) > MAX_CODE_BYTES:  # at least as many bytes: refuse before encoding
        size = len(code)
    else:
        try:
            size = len(code.encode("utf-8"))
        except UnicodeEncodeError:
            return [Problem("code", "code contains a lone UTF-16 surrogate, which is not "
                            "valid UTF-8; encode the text properly", ProblemCode.INVALID)]
    if size > MAX_CODE_BYTES:
        return [Problem("code", f"code is {size:,} bytes or more; the limit is "
                        f"{MAX_CODE_BYTES:,} bytes (64 KiB)", ProblemCode.TOO_LARGE)]
    lines = line_count(code)
    if lines > MAX_CODE_LINES:
        return [Problem("code", f"code has {lines:,} lines; the limit is {MAX_CODE_LINES:,}",
                        ProblemCode.TOO_LARGE)]
    return []


def line_count(code: str) -> int:
    """Lines as the Python tokenizer counts them (`\\n`, `\\r\\n` or a lone `\\r` ends one)."""
    breaks = code.count("\n") + code.count("\r") - code.count("\r\n")
    return breaks + (0 if code.endswith(("\n", "\r")) else 1)


def parse_manifest(raw: object) -> Manifest:
    """The manifest as a `Manifest`, or `Refused` listing every problem with it."""
    return _ManifestReader(raw).read()


class _ManifestReader:
    """Reads one raw manifest, collecting problems instead of stopping at the first."""

    def __init__(self, raw: object) -> None:
        self.raw = raw
        self.problems: list[Problem] = []

    def refuse(self, name: str, message: str, code: ProblemCode = ProblemCode.INVALID) -> None:
        self.problems.append(Problem(f"manifest.{name}", message, code))

    def read(self) -> Manifest:
        if not isinstance(self.raw, dict):
            raise Refused.one("manifest", "manifest must be a JSON object", ProblemCode.INVALID)
        fields = self.fields(self.raw)
        values = {
            "id": self.text(fields, "id", PLUGIN_ID.fullmatch, MAX_ID_LENGTH,
                            "lower-case letters, digits and '_' in '.'-separated parts, each "
                            "starting with a letter (like 'acme.coverage_gate')"),
            "name": self.text(fields, "name", _plain_text, MAX_NAME_LENGTH,
                              "text without control characters"),
            "version": self.text(fields, "version", SEMVER.fullmatch, MAX_VERSION_LENGTH,
                                 "a semantic version like '1.2.0' or '2.0.0-rc.1' "
                                 "(semver.org: no leading zeros, no 'v' prefix)"),
            "kind": self.choice(fields, "type", PluginKind),
            "description": self.text(fields, "description", _paragraph,
                                     MAX_DESCRIPTION_LENGTH,
                                     "text without control characters other than newlines "
                                     "and tabs", default=""),
            "author": self.text(fields, "author", _plain_text, MAX_AUTHOR_LENGTH,
                                "text without control characters", default=""),
            "permissions": self.permissions(fields),
            "entry_point": self.entry_point(fields),
            "triggers": self.triggers(fields),
            "tags": self.tags(fields),
            "homepage": self.homepage(fields),
        }
        if self.problems:
            raise Refused(self.problems)
        return Manifest(**values)

    def fields(self, raw: dict[Any, Any]) -> dict[str, Any]:
        """The fields under their canonical names; refuses unknown ones and id clashes."""
        fields: dict[str, Any] = {}
        unknown = [key for key in raw if key not in FIELDS and key not in ALIASES]
        for key in unknown[:10]:
            self.refuse(str(key)[:60], f"unknown field {str(key)!r:.60}; the allowed fields "
                        f"are {', '.join(FIELDS)} (and plugin_id as another name for id)")
        for key, value in raw.items():
            if key in FIELDS:
                fields[key] = value
        for alias, name in ALIASES.items():
            if alias in raw:
                if name in raw and raw[name] != raw[alias]:
                    self.refuse(alias, f"{alias} and {name} name the same field and differ; "
                                f"give only {name}")
                else:
                    fields[name] = raw[alias]
        return fields

    def text(
        self,
        fields: dict[str, Any],
        name: str,
        valid: Callable[[str], object],
        limit: int,
        allowed: str,
        default: str | None = None,
    ) -> str:
        value = fields.get(name)
        if value is None and default is not None:
            return default
        if value is None or value == "":
            if default is None:
                self.refuse(name, f"{name} is required: {allowed}", ProblemCode.REQUIRED)
            return default or ""
        if not isinstance(value, str):
            self.refuse(name, f"{name} must be a string: {allowed}")
        elif len(value) > limit:
            self.refuse(name, f"{name} is {len(value):,} characters; the limit is {limit}",
                        ProblemCode.TOO_LARGE)
        elif not valid(value):
            self.refuse(name, f"{name} must be {allowed} (got {value!r:.80})")
        else:
            return value
        return ""

    def choice(self, fields: dict[str, Any], name: str, enum: type[PluginKind]) -> PluginKind:
        allowed = " | ".join(e.value for e in enum)
        value = fields.get(name)
        if value is None:
            self.refuse(name, f"{name} is required: one of {allowed}", ProblemCode.REQUIRED)
        elif not isinstance(value, str) or value not in {e.value for e in enum}:
            self.refuse(name, f"{name} must be one of {allowed} (got {value!r:.80})")
        else:
            return enum(value)
        return PluginKind.COLLECTOR

    def permissions(self, fields: dict[str, Any]) -> tuple[Permission, ...]:
        allowed = ", ".join(p.value for p in Permission)
        value = fields.get("permissions")
        if value is None:
            return ()
        if not isinstance(value, list):
            self.refuse("permissions", f"permissions must be a list of: {allowed}")
            return ()
        found: list[Permission] = []
        for index, item in enumerate(value):
            if not isinstance(item, str) or item not in {p.value for p in Permission}:
                self.refuse(f"permissions.{index}",
                            f"unknown permission {item!r:.80}; allowed: {allowed}")
            elif Permission(item) in found:
                self.refuse(f"permissions.{index}", f"permission {item!r} is listed twice")
            else:
                found.append(Permission(item))
        return tuple(sorted(found))

    def entry_point(self, fields: dict[str, Any]) -> str:
        value = fields.get("entry_point")
        rule = ("the name of a top-level function of the code: letters, digits and '_', "
                "starting with a letter")
        if value is None or value == "":
            self.refuse("entry_point", f"entry_point is required: {rule}", ProblemCode.REQUIRED)
        elif not isinstance(value, str):
            self.refuse("entry_point", f"entry_point must be a string: {rule}")
        elif len(value) > MAX_ENTRY_POINT_LENGTH:
            self.refuse("entry_point", f"entry_point is {len(value)} characters; the limit "
                        f"is {MAX_ENTRY_POINT_LENGTH}", ProblemCode.TOO_LARGE)
        elif not ENTRY_POINT.fullmatch(value) or keyword.iskeyword(value):
            self.refuse("entry_point", f"entry_point must be {rule}, and not a Python "
                        f"keyword (got {value!r:.80})")
        else:
            return value
        return ""

    def triggers(self, fields: dict[str, Any]) -> tuple[Trigger, ...]:
        value = fields.get("triggers")
        if value is None:
            return ()
        shape = ('a list of objects like {"event": "evidence.added", "type": "sbom", '
                 '"project": "github.com/acme/app"} (type and project optional)')
        if not isinstance(value, list):
            self.refuse("triggers", f"triggers must be {shape}")
            return ()
        if len(value) > MAX_TRIGGERS:
            self.refuse("triggers", f"triggers has {len(value)} entries; the limit is "
                        f"{MAX_TRIGGERS}", ProblemCode.LIMIT_EXCEEDED)
            return ()
        triggers: list[Trigger] = []
        for index, item in enumerate(value):
            trigger = self.trigger(f"triggers.{index}", item, shape)
            if trigger is not None:
                triggers.append(trigger)
        return tuple(triggers)

    def trigger(self, path: str, item: object, shape: str) -> Trigger | None:
        if not isinstance(item, dict):
            self.refuse(path, f"each trigger must be an object: {shape}")
            return None
        before = len(self.problems)
        unknown = [str(k) for k in item if k not in TRIGGER_FIELDS]
        if unknown:
            self.refuse(path, f"unknown trigger field {unknown[0]!r:.60}; allowed: "
                        f"{', '.join(TRIGGER_FIELDS)}")
        event = item.get("event", "evidence.added")
        if event not in TRIGGER_EVENTS:
            self.refuse(f"{path}.event", f"event must be one of {', '.join(TRIGGER_EVENTS)} "
                        f"(got {event!r:.80})")
        evidence_type = item.get("type")
        if evidence_type is not None and (
            not isinstance(evidence_type, str) or not IDENTIFIER.fullmatch(evidence_type)
        ):
            self.refuse(f"{path}.type", "type must be an evidence type: 1-64 lower-case "
                        "letters, digits, '_', '.' or '-', starting with a letter")
        project = item.get("project")
        if isinstance(project, str):
            project = project.lower()
        if project is not None and (
            not isinstance(project, str) or len(project) > MAX_SLUG_LENGTH
            or not SLUG.fullmatch(project)
        ):
            self.refuse(f"{path}.project", "project must be a slug like "
                        "'github.com/owner/repo': letters, digits, '.', '_', '-' in "
                        f"'/'-separated parts, at most {MAX_SLUG_LENGTH} characters")
        if len(self.problems) > before:
            return None
        return Trigger(event=event, type=evidence_type, project=project)

    def tags(self, fields: dict[str, Any]) -> tuple[str, ...]:
        value = fields.get("tags")
        rule = (f"1-{MAX_TAG_LENGTH} lower-case letters, digits, '.', '_' or '-', starting "
                "with a letter or digit")
        if value is None:
            return ()
        if not isinstance(value, list):
            self.refuse("tags", f"tags must be a list of strings of {rule}")
            return ()
        if len(value) > MAX_TAGS:
            self.refuse("tags", f"tags has {len(value)} entries; the limit is {MAX_TAGS}",
                        ProblemCode.LIMIT_EXCEEDED)
            return ()
        found: list[str] = []
        for index, tag in enumerate(value):
            if not isinstance(tag, str) or not TAG.fullmatch(tag):
                self.refuse(f"tags.{index}", f"each tag must be {rule} (got {tag!r:.80})")
            elif tag in found:
                self.refuse(f"tags.{index}", f"tag {tag!r} is listed twice")
            else:
                found.append(tag)
        return tuple(sorted(found))

    def homepage(self, fields: dict[str, Any]) -> str | None:
        value = fields.get("homepage")
        rule = "an absolute http:// or https:// URL without spaces"
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            self.refuse("homepage", f"homepage must be {rule}")
            return None
        if len(value) > MAX_HOMEPAGE_LENGTH:
            self.refuse("homepage", f"homepage is {len(value):,} characters; the limit is "
                        f"{MAX_HOMEPAGE_LENGTH}", ProblemCode.TOO_LARGE)
            return None
        if CONTROL.search(value) or " " in value or unstorable(value):
            self.refuse("homepage", f"homepage must be {rule}")
            return None
        try:
            parts = urlsplit(value)
            valid = parts.scheme in ("http", "https") and bool(parts.hostname)
        except ValueError:
            valid = False
        if not valid:
            self.refuse("homepage", f"homepage must be {rule} (got {value!r:.80})")
            return None
        return value


def _plain_text(value: str) -> bool:
    return bool(value.strip()) and not CONTROL.search(value) and not unstorable(value)


def _paragraph(value: str) -> bool:
    return not CONTROL_IN_TEXT.search(value) and not unstorable(value)
