"""How a Solution binds to evidence: the `arcos:` block of a gsn2x YAML element.

A rule is a filter, not a frozen id, so the Solution follows the evidence that keeps
arriving: the newest item matching `type`/`source`/`project`/`ref`, a project's quality
metric (`metric`), a compliance control's status (`control`), or pinned `evidence_ids`; an
optional `predicate` over what was found and an optional freshness window
(`max_age_days`). The predicate grammar is the compliance checks' one
(`arcos.community.checks.split_comparison`), read against what the rule names:

- with `metric`: `<op> <number>` (`>= 0.95`; `findings.critical` and the other severity
  counts are counted from open findings, as compliance checks count them);
- with `control`: `== <status>` or `!= <status>`, a compliance status (`== satisfied`);
- otherwise, on the newest matching item's JSON data: `data.<path> <op> <value>` where the
  path is dotted keys or list indices (`data.summary.failed == 0`) and the value a number,
  `true`/`false`, or a string (quoted as JSON, or one bare word: `data.outcome == passed`);
  `<`, `<=`, `>`, `>=` compare numbers only.

`parse_rule` refuses anything else with a `Problem` naming the field and what to write.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from arcos.community.checks import (
    MAX_DAYS,
    OPERATORS,
    ExpressionError,
    check_metric_name,
    parse_number,
    split_comparison,
)
from arcos.community.compliance_content import BY_KEY
from arcos.community.compliance_status import Status
from arcos.evidence.drafts import CONTROL_CHARS, IDENTIFIER, MAX_REF_LENGTH, MAX_SLUG_LENGTH, SLUG
from arcos.problems import Problem, ProblemCode

#: The keys of an `arcos:` block, in the order exports write them.
RULE_KEYS = ("type", "source", "project", "ref", "metric", "predicate", "control",
             "max_age_days", "evidence_ids")
MAX_PINNED = 32
MAX_PREDICATE = 200
#: `data.<key or index>(.<key or index>)*`: the path into an evidence item's JSON data.
DATA_PATH = re.compile(r"^data(\.[A-Za-z0-9_\-]{1,64})+$")
MAX_PATH_DEPTH = 16
#: A bare-word string operand (`data.outcome == passed`); anything else is quoted JSON.
BARE_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
#: Control statuses a predicate may name.
CONTROL_STATUSES = tuple(status.value for status in Status)
EQUALITY = ("==", "!=")


@dataclass(frozen=True)
class EvidenceRule:
    """A Solution's binding to evidence: the `arcos:` block of a gsn2x YAML element."""

    type: str | None = None
    source: str | None = None
    #: Project slug; None = the case's own project.
    project: str | None = None
    ref: str | None = None
    metric: str | None = None
    predicate: str | None = None
    #: Compliance control, `<framework>:<control id>` (`soc2:CC8.1`).
    control: str | None = None
    max_age_days: int | None = None
    #: Pinned evidence (uuids, canonical lower-case text).
    evidence_ids: tuple[str, ...] = ()

    @property
    def subject(self) -> Literal["metric", "control", "pinned", "evidence"]:
        """What the rule reads: a metric series, a control, pinned items or the newest
        item matching the filter."""
        if self.metric is not None:
            return "metric"
        if self.control is not None:
            return "control"
        return "pinned" if self.evidence_ids else "evidence"

    def describe(self) -> str:
        """One phrase for reasons: what the rule looks for."""
        if self.metric is not None:
            return f"{self.metric} {self.predicate}" if self.predicate else self.metric
        if self.control is not None:
            return f"control {self.control}"
        if self.evidence_ids:
            return f"pinned evidence {', '.join(self.evidence_ids)}"
        parts = [f"{name} {value}" for name, value in
                 (("type", self.type), ("source", self.source), ("ref", self.ref))
                 if value is not None]
        return "evidence with " + ", ".join(parts)


Operand = float | str | bool


@dataclass(frozen=True)
class Predicate:
    """A parsed predicate: `path` is empty for metric and control predicates."""

    op: str
    operand: Operand
    path: tuple[str, ...] = ()

    def holds(self, value: object) -> bool:
        """Whether `value` satisfies the predicate; a value of another kind than the
        operand (a string against a number, a bool against a number) never does."""
        if isinstance(self.operand, bool) or isinstance(self.operand, str):
            return type(value) is type(self.operand) and OPERATORS[self.op](value, self.operand)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        # Python compares an int with a float exactly; float(value) overflows on an
        # integer beyond 1e308 (evidence data may hold one) and rounds above 2**53.
        return OPERATORS[self.op](value, self.operand)

    def find(self, data: object) -> tuple[bool, object]:
        """(found, value) at `path` inside an evidence item's `data`."""
        for step in self.path:
            if isinstance(data, Mapping) and step in data:
                data = data[step]
            elif isinstance(data, list) and step.isdigit() and int(step) < len(data):
                data = data[int(step)]
            else:
                return False, None
        return True, data


def parse_rule(raw: Any, path: str, problems: list[Problem]) -> EvidenceRule | None:
    """The rule of an `arcos:` block at `path` (`elements.Sn1.arcos`), or None with every
    problem appended, each naming its field (`elements.Sn1.arcos.max_age_days`)."""
    if not isinstance(raw, Mapping):
        problems.append(Problem(path, "the arcos: block is a mapping of " + ", ".join(RULE_KEYS)
                                + ", e.g. {metric: tests.pass_rate, predicate: \">= 0.95\"}",
                                ProblemCode.INVALID))
        return None
    before = len(problems)
    for extra in sorted(str(key) for key in raw if key not in RULE_KEYS):
        problems.append(Problem(f"{path}.{extra:.40}", f"unknown key {extra!r:.40}; an arcos: "
                                f"rule takes only {', '.join(RULE_KEYS)}", ProblemCode.INVALID))
    values: dict[str, Any] = {}
    for key, check in _FIELDS.items():
        if raw.get(key) is not None:
            values[key] = check(raw[key], f"{path}.{key}", problems)
    if len(problems) != before:
        return None
    rule = EvidenceRule(**values)
    _check_shape(rule, path, problems)
    if rule.predicate is not None and len(problems) == before:
        try:
            compile_predicate(rule)
        except ExpressionError as error:
            problems.append(Problem(f"{path}.predicate", str(error), ProblemCode.INVALID))
    return rule if len(problems) == before else None


def rule_to_json(rule: EvidenceRule) -> dict[str, Any]:
    """The `arcos:` block of `rule`, keys as YAML writes them, unset keys left out."""
    block: dict[str, Any] = {}
    for key in RULE_KEYS:
        value = getattr(rule, key)
        if key == "evidence_ids":
            if value:
                block[key] = list(value)
        elif value is not None:
            block[key] = value
    return block


@lru_cache(maxsize=4096)
def compile_predicate(rule: EvidenceRule) -> Predicate | None:
    """`rule.predicate` parsed against what the rule reads; ExpressionError saying what
    to write when it does not parse. None when the rule has no predicate."""
    text = rule.predicate
    if text is None:
        return None
    parts = split_comparison(text)
    subject = rule.subject
    if parts is None:
        raise ExpressionError(f"{text!r:.80} is not a comparison; write {_EXAMPLES[subject]}")
    left, op, right = parts
    if subject == "metric":
        if left and left != rule.metric:
            raise ExpressionError(f"the predicate compares the rule's metric {rule.metric}; "
                                  f"write it without a name, e.g. \">= 0.95\" (got {left!r:.40})")
        return Predicate(op, parse_number(right))
    if subject == "control":
        if left or op not in EQUALITY or right.lower() not in CONTROL_STATUSES:
            raise ExpressionError(f"a control predicate is `== <status>` or `!= <status>` with "
                                  f"a status of {', '.join(CONTROL_STATUSES)}, e.g. "
                                  "\"== satisfied\"")
        return Predicate(op, right.lower())
    if not DATA_PATH.match(left) or left.count(".") > MAX_PATH_DEPTH:
        raise ExpressionError(f"{left or text!r:.80} is not a path into the evidence data; "
                              f"write {_EXAMPLES[subject]} (at most {MAX_PATH_DEPTH} steps)")
    operand = _operand(right)
    if op not in EQUALITY and not isinstance(operand, float):
        raise ExpressionError(f"{op} compares numbers only; use == or != for "
                              f"{right!r:.40}")
    return Predicate(op, operand, tuple(left.split(".")[1:]))


_EXAMPLES = {
    "metric": "`<op> <number>`, e.g. \">= 0.95\"",
    "control": "\"== satisfied\" or \"!= failing\"",
    "pinned": "`data.<path> <op> <value>`, e.g. \"data.failed == 0\"",
    "evidence": "`data.<path> <op> <value>`, e.g. \"data.failed == 0\"",
}


def _operand(raw: str) -> Operand:
    """A number, a boolean or a string (JSON-quoted or one bare word)."""
    if raw in ("true", "false"):
        return raw == "true"
    if raw.startswith('"'):
        try:
            value = json.loads(raw)
        except ValueError:
            value = None
        if not isinstance(value, str):
            raise ExpressionError(f"{raw!r:.40} is not a JSON string; close the quotes and "
                                  "escape inner quotes as \\\"")
        return value
    try:
        return parse_number(raw)
    except ExpressionError:
        if BARE_WORD.match(raw):
            return raw
        raise ExpressionError(f"{raw!r:.40} is neither a number, true/false, a bare word nor "
                              "a \"quoted string\"") from None


def _check_shape(rule: EvidenceRule, path: str, problems: list[Problem]) -> None:
    """Keys that make no sense together, and a rule that names nothing to look for."""
    def refuse(key: str, message: str) -> None:
        problems.append(Problem(f"{path}.{key}", message, ProblemCode.INVALID))

    filters = [key for key in ("type", "source", "ref") if getattr(rule, key) is not None]
    if rule.metric is not None and rule.control is not None:
        refuse("control", "a rule reads either a metric or a control; give one of the two")
    elif rule.metric is not None or rule.control is not None:
        named = "metric" if rule.metric is not None else "control"
        for key in filters:
            refuse(key, f"a {named} rule reads the project's {named} status, not evidence "
                   f"items; drop {key} or drop {named}")
        if rule.evidence_ids:
            refuse("evidence_ids", f"pinned evidence ids and a {named} exclude each other; "
                   "drop one")
        if rule.control is not None and rule.max_age_days is not None:
            refuse("max_age_days", "a control's checks carry their own freshness windows; "
                   "drop max_age_days")
    elif rule.evidence_ids:
        for key in (*filters, *(("project",) if rule.project is not None else ())):
            refuse(key, f"pinned evidence_ids name their items; drop {key} or drop "
                   "evidence_ids")
    elif not filters:
        problems.append(Problem(path, "say what evidence supports this Solution: a type "
                                "and/or source (type: test_results), a metric (metric: "
                                "tests.pass_rate), a control (control: soc2:CC8.1) or "
                                "evidence_ids", ProblemCode.REQUIRED))


def _identifier(raw: Any, field: str, problems: list[Problem]) -> str | None:
    if not isinstance(raw, str) or not IDENTIFIER.match(raw):
        problems.append(Problem(field, f"{raw!r:.40} is not an evidence {field.rsplit('.', 1)[1]}"
                                ": lower-case, like test_results or junit", ProblemCode.INVALID))
        return None
    return raw


def _project(raw: Any, field: str, problems: list[Problem]) -> str | None:
    slug = raw.strip().lower() if isinstance(raw, str) else None
    if slug is None or len(slug) > MAX_SLUG_LENGTH or not SLUG.match(slug):
        problems.append(Problem(field, f"{raw!r:.60} is not a project slug like "
                                "github.com/owner/repo", ProblemCode.INVALID))
        return None
    return slug


def _ref(raw: Any, field: str, problems: list[Problem]) -> str | None:
    if not isinstance(raw, str) or not raw or len(raw) > MAX_REF_LENGTH \
            or CONTROL_CHARS.search(raw):
        problems.append(Problem(field, f"ref must be 1-{MAX_REF_LENGTH} characters without "
                                "control characters, like refs/heads/main", ProblemCode.INVALID))
        return None
    return raw


def _metric(raw: Any, field: str, problems: list[Problem]) -> str | None:
    try:
        if not isinstance(raw, str):
            raise ExpressionError(f"{raw!r:.40} is not a metric name, e.g. tests.pass_rate")
        return check_metric_name(raw)
    except ExpressionError as error:
        problems.append(Problem(field, str(error), ProblemCode.INVALID))
        return None


def _predicate(raw: Any, field: str, problems: list[Problem]) -> str | None:
    if isinstance(raw, bool) or not isinstance(raw, str) or not raw.strip() \
            or len(raw) > MAX_PREDICATE or CONTROL_CHARS.search(raw):
        problems.append(Problem(field, f"give the predicate as text of at most {MAX_PREDICATE} "
                                "characters, quoted in YAML: \">= 0.95\" or \"data.failed == 0\"",
                                ProblemCode.INVALID))
        return None
    return raw.strip()


def _control(raw: Any, field: str, problems: list[Problem]) -> str | None:
    framework, _, control = raw.partition(":") if isinstance(raw, str) else ("", "", "")
    known = BY_KEY.get(framework.strip().lower())
    if known is None:
        problems.append(Problem(field, f"{raw!r:.60} does not name a built-in framework; write "
                                "<framework>:<control id> with a framework of "
                                f"{', '.join(BY_KEY)}, e.g. soc2:CC8.1", ProblemCode.INVALID))
        return None
    ids = {item.id for item in known.controls}
    if control.strip() not in ids:
        problems.append(Problem(field, f"{known.key} has no control {control.strip()!r:.40}; "
                                f"its controls are {', '.join(sorted(ids))}",
                                ProblemCode.INVALID))
        return None
    return f"{known.key}:{control.strip()}"


def _max_age(raw: Any, field: str, problems: list[Problem]) -> int | None:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 < raw <= MAX_DAYS:
        problems.append(Problem(field, f"max_age_days must be a whole number from 1 to "
                                f"{MAX_DAYS} (got {raw!r:.20})", ProblemCode.INVALID))
        return None
    return raw


def _evidence_ids(raw: Any, field: str, problems: list[Problem]) -> tuple[str, ...]:
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not 0 < len(items) <= MAX_PINNED:
        problems.append(Problem(field, f"give 1 to {MAX_PINNED} evidence ids (uuids) as a list",
                                ProblemCode.INVALID))
        return ()
    ids = []
    for index, item in enumerate(items):
        uid = _evidence_uid(item)
        if uid is None:
            problems.append(Problem(f"{field}.{index}", f"{item!r:.60} is not an evidence id: "
                                    "its uuid, or the id the API gives (RXZpZGVuY2U6…)",
                                    ProblemCode.INVALID))
        else:
            ids.append(str(uid))
    return tuple(dict.fromkeys(ids))


def _evidence_uid(item: object) -> uuid.UUID | None:
    """The uuid of an evidence id written as a uuid or as the API's global id (base64 of
    `Evidence:<uuid>`, what `evidence(id)` and `node(id)` take)."""
    if not isinstance(item, str) or len(item) > 80:
        return None
    try:
        return uuid.UUID(item)
    except ValueError:
        pass
    try:
        kind, _, text = base64.b64decode(item, validate=True).decode().partition(":")
        return uuid.UUID(text) if kind == "Evidence" else None
    except (ValueError, UnicodeDecodeError):
        return None


_FIELDS = {
    "type": _identifier, "source": _identifier, "project": _project, "ref": _ref,
    "metric": _metric, "predicate": _predicate, "control": _control,
    "max_age_days": _max_age, "evidence_ids": _evidence_ids,
}
