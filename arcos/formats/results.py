"""The normalised results every parser returns: immutable values that the evidence mutations
store as evidence, findings and quality metrics. Totals are always derived from the items."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from operator import attrgetter
from typing import ClassVar, Literal, NamedTuple, TypeAlias

from arcos.formats.errors import ParseWarning

Outcome: TypeAlias = Literal["passed", "failed", "errored", "skipped", "flaky"]
Severity: TypeAlias = Literal["critical", "high", "medium", "low", "info", "unknown"]
FindingKind: TypeAlias = Literal["sast", "sca"]
BuildStatus: TypeAlias = Literal["success", "failure", "cancelled", "running"]
Kind: TypeAlias = Literal[
    "test_report", "coverage_report", "sast_report", "vulnerability_report", "sbom", "build"
]
MetricValue: TypeAlias = int | float | None

SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low", "info", "unknown")
OUTCOMES: tuple[Outcome, ...] = ("passed", "failed", "errored", "skipped", "flaky")
BUILD_STATUSES: tuple[BuildStatus, ...] = ("success", "failure", "cancelled", "running")


def rate(covered: int, valid: int) -> float | None:
    """covered/valid as a fraction, or None when there is nothing to cover."""
    return covered / valid if valid > 0 else None


@dataclass(frozen=True, slots=True)
class Tool:
    """The program that produced an artifact, as the artifact names it."""

    name: str
    version: str | None = None


class TestCase(NamedTuple):
    """One test's final outcome (reruns already folded in).

    A named tuple rather than a frozen dataclass: a report builds one per test, and a
    frozen dataclass's `__init__` (one `object.__setattr__` per field) cost a 1,000-test
    report more than expat's whole reading of it."""

    __test__ = False  # not a pytest test class

    classname: str
    name: str
    file: str | None
    outcome: Outcome
    duration_seconds: float | None
    message: str | None


#: `TestCase(*fields)` through tuple's own constructor, without the Python-level `__new__`
#: of a named tuple: a report builds one per test, and that call was a quarter of turning a
#: 1,000-test report's cases into `TestCase`s.
new_test_case: Callable[[tuple[str, str, str | None, Outcome, float | None, str | None]],
                        TestCase] = partial(tuple.__new__, TestCase)

_OUTCOME_OF = attrgetter("outcome")


@dataclass(frozen=True, slots=True)
class TestReport:
    """A JUnit-style report; every count is recounted from `cases`, never read from headers."""

    __test__: ClassVar[bool] = False
    kind: ClassVar[Kind] = "test_report"

    format: str
    tool: Tool | None
    cases: tuple[TestCase, ...]
    duration_seconds: float | None
    warnings: tuple[ParseWarning, ...] = ()
    #: How many cases ended each way: counted once, for every total, metric and summary.
    _counts: Counter[Outcome] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_counts", Counter(map(_OUTCOME_OF, self.cases)))

    def outcome_counts(self) -> Counter[Outcome]:
        """How many cases ended each way (do not change it: the report is immutable)."""
        return self._counts

    def _count(self, outcome: Outcome) -> int:
        return self.outcome_counts()[outcome]

    @property
    def total(self) -> int:
        return len(self.cases)

    @property
    def passed(self) -> int:
        return self._count("passed")

    @property
    def failed(self) -> int:
        return self._count("failed")

    @property
    def errored(self) -> int:
        return self._count("errored")

    @property
    def skipped(self) -> int:
        return self._count("skipped")

    @property
    def flaky(self) -> int:
        return self._count("flaky")

    @property
    def pass_rate(self) -> float | None:
        """passed / (total - skipped); None when nothing ran."""
        counts = self.outcome_counts()
        return rate(counts["passed"], len(self.cases) - counts["skipped"])

    def metrics(self) -> dict[str, MetricValue]:
        counts = self.outcome_counts()
        values: dict[str, MetricValue] = {"tests.total": len(self.cases)}
        values.update({f"tests.{outcome}": counts[outcome] for outcome in OUTCOMES})
        values["tests.pass_rate"] = self.pass_rate
        values["tests.duration_seconds"] = self.duration_seconds
        return values


@dataclass(frozen=True, slots=True)
class FileCoverage:
    """Coverage of one source file, path as the report gives it."""

    path: str
    lines_valid: int
    lines_covered: int
    branches_valid: int = 0
    branches_covered: int = 0

    @property
    def line_rate(self) -> float | None:
        return rate(self.lines_covered, self.lines_valid)


@dataclass(frozen=True, slots=True)
class CoverageReport:
    """Line, branch and (LCOV) function coverage as fractions 0..1 derived from raw counts."""

    kind: ClassVar[Kind] = "coverage_report"

    format: str
    tool: Tool | None
    lines_valid: int
    lines_covered: int
    branches_valid: int
    branches_covered: int
    files: tuple[FileCoverage, ...]
    functions_valid: int | None = None
    functions_covered: int | None = None
    tool_percent_covered: float | None = None
    """The tool's own headline percentage (coverage.py's combined figure): metadata only."""
    warnings: tuple[ParseWarning, ...] = ()

    @property
    def line_rate(self) -> float | None:
        return rate(self.lines_covered, self.lines_valid)

    @property
    def branch_rate(self) -> float | None:
        return rate(self.branches_covered, self.branches_valid)

    @property
    def function_rate(self) -> float | None:
        if self.functions_valid is None or self.functions_covered is None:
            return None
        return rate(self.functions_covered, self.functions_valid)

    @property
    def combined_rate(self) -> float | None:
        """Sonar-style (covered lines + covered branches) / (lines + branches)."""
        return rate(
            self.lines_covered + self.branches_covered, self.lines_valid + self.branches_valid
        )

    def metrics(self) -> dict[str, MetricValue]:
        return {
            "coverage.line_rate": self.line_rate,
            "coverage.branch_rate": self.branch_rate,
            "coverage.function_rate": self.function_rate,
            "coverage.combined_rate": self.combined_rate,
            "coverage.lines_valid": self.lines_valid,
            "coverage.lines_covered": self.lines_covered,
            "coverage.branches_valid": self.branches_valid,
            "coverage.branches_covered": self.branches_covered,
        }


@dataclass(frozen=True, slots=True)
class Finding:
    """One static-analysis result ("sast") or one vulnerability in one component ("sca").

    `fingerprint` is stable across runs and never includes the line number: SAST hashes
    tool + rule + repo-relative path + a content fingerprint; SCA hashes the purl without
    qualifiers + the canonical vulnerability id (CVE, then GHSA, then other).
    """

    tool: str
    rule_id: str
    severity: Severity
    message: str
    path: str | None
    line: int | None
    fingerprint: str
    kind: FindingKind
    cwes: tuple[str, ...] = ()
    category: str | None = None
    suppressed: bool = False
    component: str | None = None
    version: str | None = None
    purl: str | None = None
    vulnerability_id: str | None = None
    aliases: tuple[str, ...] = ()
    fixed_versions: tuple[str, ...] = ()
    score: float | None = None


def severity_metrics(prefix: str, findings: Iterable[Finding]) -> dict[str, MetricValue]:
    """Counts of unsuppressed findings per severity, plus the suppressed count."""
    active = [finding for finding in findings if not finding.suppressed]
    counts = Counter(finding.severity for finding in active)
    values: dict[str, MetricValue] = {f"{prefix}.total": len(active)}
    values.update({f"{prefix}.{severity}": counts[severity] for severity in SEVERITIES})
    return values


@dataclass(frozen=True, slots=True)
class StaticAnalysisReport:
    """Findings from one SARIF log (possibly several runs and tools)."""

    kind: ClassVar[Kind] = "sast_report"

    format: str
    tools: tuple[Tool, ...]
    findings: tuple[Finding, ...]
    warnings: tuple[ParseWarning, ...] = ()

    def metrics(self) -> dict[str, MetricValue]:
        values = severity_metrics("findings", self.findings)
        values["findings.suppressed"] = sum(1 for finding in self.findings if finding.suppressed)
        return values


RISK_WEIGHTS: dict[Severity, int] = {
    "critical": 10, "high": 5, "medium": 3, "low": 1, "info": 0, "unknown": 5,
}
"""Dependency-Track's default risk-score weights; unknown severity weighs like high."""


@dataclass(frozen=True, slots=True)
class VulnerabilityReport:
    """Vulnerabilities after alias merging: one finding per (component, vulnerability)."""

    kind: ClassVar[Kind] = "vulnerability_report"

    format: str
    tool: Tool | None
    findings: tuple[Finding, ...]
    vulnerable_components: int
    warnings: tuple[ParseWarning, ...] = ()
    incomplete: bool = False
    """True when the scanner says it skipped something (pip-audit skip_reason)."""

    def metrics(self) -> dict[str, MetricValue]:
        values = severity_metrics("vulns", self.findings)
        active = [finding for finding in self.findings if not finding.suppressed]
        values["vulns.suppressed"] = len(self.findings) - len(active)
        values["vulns.vulnerable_components"] = self.vulnerable_components
        values["vulns.fixable"] = sum(1 for finding in active if finding.fixed_versions)
        values["vulns.risk_score"] = sum(RISK_WEIGHTS[finding.severity] for finding in active)
        return values


@dataclass(frozen=True, slots=True)
class Component:
    """One package in an SBOM; `licenses` holds SPDX ids, names or expressions."""

    name: str
    version: str | None
    purl: str | None
    licenses: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Sbom:
    """Components of a software bill of materials (the described subject is not counted)."""

    kind: ClassVar[Kind] = "sbom"

    format: str
    spec_version: str | None
    tool: Tool | None
    subject: Component | None
    components: tuple[Component, ...]
    warnings: tuple[ParseWarning, ...] = ()
    vulnerabilities: VulnerabilityReport | None = None
    """The vulnerability scan the BOM embeds (a CycloneDX `vulnerabilities` array, as
    `pip-audit -f cyclonedx-json` writes), with its own warnings; None when it has no such
    array, which is no scan at all (an empty array is a clean one)."""

    @property
    def licenses_unknown(self) -> int:
        return sum(1 for component in self.components if not component.licenses)

    def metrics(self) -> dict[str, MetricValue]:
        values: dict[str, MetricValue] = {
            "sbom.components": len(self.components),
            "sbom.licenses_unknown": self.licenses_unknown,
        }
        if self.vulnerabilities is not None:
            values.update(self.vulnerabilities.metrics())
        return values


@dataclass(frozen=True, slots=True)
class BuildRecord:
    """A CI build or, when `environment` is set, a deployment, from ARCOS's small build JSON."""

    kind: ClassVar[Kind] = "build"

    format: str
    status: BuildStatus
    duration_seconds: float | None
    commit: str | None
    ref: str | None
    pipeline_id: str | None
    environment: str | None
    started_at: datetime | None
    finished_at: datetime | None
    warnings: tuple[ParseWarning, ...] = ()

    @property
    def is_deployment(self) -> bool:
        return self.environment is not None

    def metrics(self) -> dict[str, MetricValue]:
        succeeded = None if self.status == "running" else int(self.status == "success")
        return {"build.duration_seconds": self.duration_seconds, "build.succeeded": succeeded}


Result: TypeAlias = (
    TestReport | CoverageReport | StaticAnalysisReport | VulnerabilityReport | Sbom | BuildRecord
)
