"""JUnit XML (pytest xunit1/xunit2, Maven Surefire, and the like) to a TestReport whose counts
come from the testcase elements, because suite headers disagree with them (Surefire reruns)."""

from __future__ import annotations

import math
from xml.etree.ElementTree import Element

from arcos.formats.errors import UNPROCESSABLE, ArtifactRefused, ParseWarning, capped
from arcos.formats.results import Outcome, TestCase, TestReport, Tool
from arcos.formats.xml import local_name, parse_xml

MAX_MESSAGE_CHARS = 2000
_VERDICTS: tuple[tuple[str, Outcome], ...] = (
    ("failure", "failed"),
    ("error", "errored"),
    ("skipped", "skipped"),
    ("rerunFailure", "failed"),  # Surefire: failed again on every rerun
    ("rerunError", "errored"),
    ("flakyFailure", "flaky"),  # Surefire: failed, then passed on a rerun
    ("flakyError", "flaky"),
)


def parse(content: bytes) -> TestReport:
    """Parse a JUnit XML document with a `testsuites` or bare `testsuite` root."""
    root = parse_xml(content)
    name = local_name(root)
    if name not in ("testsuites", "testsuite"):
        raise ArtifactRefused(
            UNPROCESSABLE,
            f"not a JUnit report: the root element is <{name}>, expected <testsuites> or "
            "<testsuite>",
        )
    warnings: list[ParseWarning] = []
    entries = list(_testcases(root, warnings))
    cases = _fold_reruns(entries, warnings)
    if not cases:
        warnings.append("the report contains no testcase elements")
    return TestReport(
        format="junit",
        tool=_tool(root),
        cases=tuple(cases),
        duration_seconds=_duration(root, entries, warnings),
        warnings=capped(warnings),
    )


def _testcases(root: Element, warnings: list[ParseWarning]) -> list[TestCase]:
    """Every testcase under the root in document order, nested suites included."""
    found: list[TestCase] = []
    stack: list[tuple[Element, str]] = [(root, root.get("name", ""))]
    while stack:
        element, suite_name = stack.pop()
        for child in reversed(list(element)):
            tag = local_name(child)
            if tag == "testsuite":
                stack.append((child, child.get("name", suite_name)))
            elif tag == "testcase":
                stack.append((child, suite_name))
        if local_name(element) == "testcase":
            found.append(_testcase(element, suite_name, warnings))
    return found


def _testcase(element: Element, suite_name: str, warnings: list[ParseWarning]) -> TestCase:
    outcome: Outcome = "passed"
    message: str | None = None
    present = {local_name(child): child for child in reversed(list(element))}
    for tag, verdict in _VERDICTS:
        if tag in present:
            outcome = verdict
            message = _message(present[tag])
            break
    name = element.get("name") or ""
    if not name:
        warnings.append("a testcase without a name attribute was counted as '<unnamed>'")
    return TestCase(
        classname=element.get("classname") or suite_name,
        name=name or "<unnamed>",
        file=element.get("file") or None,
        outcome=outcome,
        duration_seconds=_seconds(element.get("time"), warnings),
        message=message,
    )


def _message(verdict: Element) -> str | None:
    message = verdict.get("message")
    if not message and verdict.text and verdict.text.strip():
        message = verdict.text.strip().splitlines()[0]
    if not message:
        return None
    return message[:MAX_MESSAGE_CHARS]


def _fold_reruns(entries: list[TestCase], warnings: list[ParseWarning]) -> list[TestCase]:
    """One case per (classname, name, file): the last entry wins; fail-then-pass is flaky."""
    folded: dict[tuple[str, str, str | None], TestCase] = {}
    for entry in entries:
        key = (entry.classname, entry.name, entry.file)
        earlier = folded.get(key)
        if earlier is not None and entry.outcome == "passed" and earlier.outcome in (
            "failed", "errored", "flaky",
        ):
            entry = TestCase(
                entry.classname, entry.name, entry.file, "flaky", entry.duration_seconds,
                earlier.message,
            )
        folded[key] = entry
    merged = len(entries) - len(folded)
    if merged:
        warnings.append(f"{merged} repeated testcase entries were merged (last outcome wins)")
    return list(folded.values())


def _seconds(value: str | None, warnings: list[ParseWarning]) -> float | None:
    """A JUnit `time` attribute; tolerates '1,234.5' (thousands) and '0,25' (decimal comma)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    text = text.replace(",", "") if "." in text else text.replace(",", ".")
    try:
        seconds = float(text)
    except ValueError:
        warnings.append(f"ignored an unreadable time value {value[:40]!r}")
        return None
    if not math.isfinite(seconds) or seconds < 0:
        warnings.append(f"ignored an impossible time value {value[:40]!r}")
        return None
    return seconds


def _duration(
    root: Element, entries: list[TestCase], warnings: list[ParseWarning]
) -> float | None:
    """The root's time, else the sum of the top-level suites' times, else of the cases'."""
    root_time = _seconds(root.get("time"), warnings)
    if root_time is not None:
        return root_time
    suite_times = [
        _seconds(child.get("time"), warnings)
        for child in root
        if local_name(child) == "testsuite"
    ]
    known = [seconds for seconds in suite_times if seconds is not None]
    if known:
        return sum(known)
    case_times = [case.duration_seconds for case in entries if case.duration_seconds is not None]
    return sum(case_times) if case_times else None


def _tool(root: Element) -> Tool | None:
    schema = root.get("{http://www.w3.org/2001/XMLSchema-instance}noNamespaceSchemaLocation", "")
    if "surefire" in schema:
        return Tool("maven-surefire", None)
    suites = [root] if local_name(root) == "testsuite" else [
        child for child in root if local_name(child) == "testsuite"
    ]
    if root.get("name") == "pytest tests" or any(s.get("name") == "pytest" for s in suites):
        return Tool("pytest", None)
    return None
