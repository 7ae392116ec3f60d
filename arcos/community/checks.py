"""What a compliance control's evidence must look like, as checks over ARCOS's own data.

A check is one of three kinds, each answered from the store by `compliance_status`:

- `evidence`: an evidence item of one of `types` for the project, created within `days`;
- `metric`: `<name> <op> <number>` over the project's newest value of a quality metric
  (`tests.pass_rate >= 0.95`); severity counts (`findings.critical`, `vulns.high`, their
  `.total`) are counted from the project's open findings across every tool;
- `sbom`: an SBOM of the project within `days`.

Built-in templates construct checks in Python; custom templates send them as JSON, which
`parse_checks` turns into the same objects or refuses naming the field at fault.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from arcos.evidence.drafts import IDENTIFIER
from arcos.formats.results import SEVERITIES
from arcos.problems import Problem, ProblemCode

CheckKind = Literal["evidence", "metric", "sbom"]
CHECK_KINDS: tuple[CheckKind, ...] = ("evidence", "metric", "sbom")
#: How old the newest evidence may be before it counts as stale, unless a check says.
DEFAULT_DAYS = 90
MAX_DAYS = 3650
MAX_TYPES = 8
#: A metric name as ARCOS records them: dotted lower-case words (quality_metric.name).
METRIC_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
MAX_METRIC_NAME = 64
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, "<=": operator.le, "==": operator.eq, "!=": operator.ne,
    ">": operator.gt, "<": operator.lt,
}
#: `<subject> <op> <operand>`, the one comparison grammar of compliance checks and of
#: assurance-case evidence rules (arcos/assurance/rules.py); the subject may be absent
#: (`>= 0.95` in a rule that names its metric separately).
COMPARISON = re.compile(r"^\s*(\S*?)\s*(>=|<=|==|!=|>|<)\s*(\S.*?)\s*$")
SBOM_TYPE = "sbom"


@dataclass(frozen=True)
class FindingFamily:
    """A metric family counted from open findings rather than read from the series.

    The count is dated by the newest scan that could have changed it: the newest evidence
    of type `report`, or the newest upload of one of the `also` types that recorded the
    family's `total` metric. An SBOM that embeds vulnerabilities is a vulnerability scan
    and records `vulns.total`; a plain SBOM records none, so it dates nothing. (The newest
    `total` value is the one consulted: a plugin's value, which names no evidence type,
    dates nothing either.)"""

    kind: str
    report: str
    total: str
    also: tuple[str, ...] = ()

    def describe(self) -> str:
        """What dates the count, for details: `vulnerability_report evidence or an sbom
        that recorded vulns.total`."""
        return " or ".join((f"{self.report} evidence",
                            *(f"an {kind} that recorded {self.total}" for kind in self.also)))


#: Metric families counted from open findings, by their metric prefix.
FINDING_FAMILIES: dict[str, FindingFamily] = {
    "findings": FindingFamily("sast", "security_scan", "findings.total"),
    "vulns": FindingFamily("sca", "vulnerability_report", "vulns.total", also=(SBOM_TYPE,)),
}


@dataclass(frozen=True)
class Check:
    """One condition a control's evidence must meet."""

    kind: CheckKind
    days: int = DEFAULT_DAYS
    #: `evidence`: any of these evidence types satisfies it.
    types: tuple[str, ...] = ()
    #: `metric`: the metric, its comparison and threshold.
    metric: str | None = None
    op: str | None = None
    threshold: float | None = None

    @property
    def expression(self) -> str | None:
        if self.kind != "metric":
            return None
        return f"{self.metric} {self.op} {_number(self.threshold)}"

    @property
    def finding_family(self) -> tuple[FindingFamily, str | None] | None:
        """For a severity-count metric: (its family, severity or None for the total); None
        for a metric read from the series."""
        return None if self.metric is None else finding_family(self.metric)

    def passes(self, value: float) -> bool:
        assert self.op is not None and self.threshold is not None
        return OPERATORS[self.op](value, self.threshold)

    def describe(self) -> str:
        """One line for checklists: what evidence satisfies this check."""
        if self.kind == "evidence":
            return f"{' or '.join(self.types)} evidence within {self.days} days"
        if self.kind == "sbom":
            return f"an SBOM within {self.days} days"
        return f"{self.expression} (newest value within {self.days} days)"

    def to_json(self) -> dict[str, Any]:
        if self.kind == "evidence":
            return {"kind": "evidence", "types": list(self.types), "days": self.days}
        if self.kind == "sbom":
            return {"kind": "sbom", "days": self.days}
        return {"kind": "metric", "expression": self.expression, "days": self.days}


def evidence(*types: str, days: int = DEFAULT_DAYS) -> Check:
    return Check("evidence", days=days, types=types)


def metric(expression: str, days: int = DEFAULT_DAYS) -> Check:
    name, op, threshold = _parse_expression(expression)
    return Check("metric", days=days, metric=name, op=op, threshold=threshold)


def sbom(days: int = DEFAULT_DAYS) -> Check:
    return Check("sbom", days=days)


class ExpressionError(ValueError):
    """A metric expression that does not read `<name> <op> <number>`."""


def finding_family(metric: str) -> tuple[FindingFamily, str | None] | None:
    """For a severity-count metric (`findings.critical`, `vulns.total`): its family and
    severity (None for the total); None for a metric read from the series."""
    family, _, rest = metric.partition(".")
    if family not in FINDING_FAMILIES or (rest != "total" and rest not in SEVERITIES):
        return None
    return FINDING_FAMILIES[family], None if rest == "total" else rest


def split_comparison(text: str) -> tuple[str, str, str] | None:
    """`(subject, operator, operand)` of `<subject> <op> <operand>`, the subject possibly
    empty; None when `text` has no operator between a subject and an operand."""
    match = COMPARISON.match(text)
    return None if match is None else (match[1], match[2], match[3])


def check_metric_name(name: str) -> str:
    """`name` if it is a metric name as ARCOS records them, else ExpressionError."""
    if len(name) > MAX_METRIC_NAME or not METRIC_NAME.match(name):
        raise ExpressionError(
            f"{name!r:.80} is not a metric name: dotted lower-case words of at most "
            f"{MAX_METRIC_NAME} characters, e.g. coverage.line_rate")
    return name


def parse_number(raw: str) -> float:
    """A comparison's finite number operand, else ExpressionError."""
    try:
        value = float(raw)
    except ValueError:
        raise ExpressionError(f"{raw!r:.40} is not a number") from None
    if not math.isfinite(value):
        raise ExpressionError(f"{raw!r:.40} is not a finite number")
    return value


def _parse_expression(expression: str) -> tuple[str, str, float]:
    parts = split_comparison(expression)
    if parts is None or not parts[0]:
        raise ExpressionError(
            f"{expression!r:.80} is not `<metric> <op> <number>`, e.g. "
            "`tests.pass_rate >= 0.95`; operators: " + " ".join(OPERATORS))
    name, op, raw = parts
    return check_metric_name(name), op, parse_number(raw)


def _number(value: float | None) -> str:
    return "" if value is None else (str(int(value)) if float(value).is_integer() else repr(value))


def parse_checks(raw: Any, field: str, problems: list[Problem]) -> tuple[Check, ...]:
    """The checks of one control from JSON; each problem is appended naming its field
    (`controls.2.checks.0.days`). Returns what parsed."""
    if not isinstance(raw, list) or not raw:
        problems.append(Problem(field, "give a non-empty list of checks, each "
                                '{"kind": "evidence"|"metric"|"sbom", …}', ProblemCode.INVALID))
        return ()
    checks = []
    for index, item in enumerate(raw):
        check = _parse_check(item, f"{field}.{index}", problems)
        if check is not None:
            checks.append(check)
    return tuple(checks)


def _parse_check(raw: Any, field: str, problems: list[Problem]) -> Check | None:
    if not isinstance(raw, dict):
        problems.append(Problem(field, "a check is a JSON object", ProblemCode.INVALID))
        return None
    kind = raw.get("kind")
    if kind not in CHECK_KINDS:
        problems.append(Problem(f"{field}.kind", f"unknown check kind {kind!r:.40}; use one of "
                                f"{', '.join(CHECK_KINDS)}", ProblemCode.INVALID))
        return None
    allowed = {"evidence": {"kind", "types", "days"}, "metric": {"kind", "expression", "days"},
               "sbom": {"kind", "days"}}[kind]
    before = len(problems)
    for extra in sorted(set(raw) - allowed):
        problems.append(Problem(f"{field}.{extra:.40}", f"a {kind} check takes only "
                                f"{', '.join(sorted(allowed))}", ProblemCode.INVALID))
    days = _days(raw.get("days", DEFAULT_DAYS), f"{field}.days", problems)
    if kind == "evidence":
        types = _types(raw.get("types"), f"{field}.types", problems)
        return Check("evidence", days=days, types=types) if len(problems) == before else None
    if kind == "sbom":
        return Check("sbom", days=days) if len(problems) == before else None
    expression = raw.get("expression")
    if not isinstance(expression, str):
        problems.append(Problem(f"{field}.expression", "give the condition as text, e.g. "
                                "\"findings.critical == 0\"", ProblemCode.REQUIRED))
        return None
    try:
        name, op, threshold = _parse_expression(expression)
    except ExpressionError as error:
        problems.append(Problem(f"{field}.expression", str(error), ProblemCode.INVALID))
        return None
    if len(problems) != before:
        return None
    return Check("metric", days=days, metric=name, op=op, threshold=threshold)


def _days(raw: Any, field: str, problems: list[Problem]) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 < raw <= MAX_DAYS:
        problems.append(Problem(field, f"days must be a whole number from 1 to {MAX_DAYS} "
                                f"(got {raw!r:.20})", ProblemCode.INVALID))
        return DEFAULT_DAYS
    return raw


def _types(raw: Any, field: str, problems: list[Problem]) -> tuple[str, ...]:
    if not isinstance(raw, list) or not 0 < len(raw) <= MAX_TYPES:
        problems.append(Problem(field, f"give 1 to {MAX_TYPES} evidence types, e.g. "
                                '["test_results"]', ProblemCode.INVALID))
        return ()
    bad = [value for value in raw if not isinstance(value, str) or not IDENTIFIER.match(value)]
    if bad:
        problems.append(Problem(field, f"{bad[0]!r:.40} is not an evidence type (lower-case, "
                                "like test_results or code_review)", ProblemCode.INVALID))
        return ()
    return tuple(dict.fromkeys(raw))


def checks_json(checks: Sequence[Check]) -> list[dict[str, Any]]:
    return [check.to_json() for check in checks]
