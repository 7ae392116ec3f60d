"""JUnit XML (pytest xunit1/xunit2, Maven Surefire, and the like) to a TestReport whose counts
come from the testcase elements, because suite headers disagree with them (Surefire reruns)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from operator import itemgetter
from xml.etree.ElementTree import Element

from arcos.formats import junit_stream
from arcos.formats.errors import UNPROCESSABLE, ArtifactRefused, ParseWarning, capped
from arcos.formats.junit_stream import Verdict
from arcos.formats.results import Outcome, TestCase, TestReport, Tool, new_test_case
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
_OUTCOMES: dict[str, Outcome] = dict(_VERDICTS)
_VERDICT_TAGS = tuple(_OUTCOMES)
#: What identifies a test across reruns: (classname, name, file).
_IDENTITY = itemgetter(0, 1, 2)
#: The attribute Surefire names its schema in, as the element tree spells it.
SCHEMA_LOCATION = "{http://www.w3.org/2001/XMLSchema-instance}noNamespaceSchemaLocation"


def parse(content: bytes) -> TestReport:
    """Parse a JUnit XML document with a `testsuites` or bare `testsuite` root.

    The report is read from expat's callbacks (`junit_stream`), without an element tree; a
    document that reader does not take as an ordinary report (any XML error or refusal, an
    unexpected root, an undefined entity) is parsed again through defusedxml's tree, whose
    result and errors are the reference the reader is tested against.
    """
    try:
        reading = junit_stream.read(content, _VERDICT_TAGS)
    except junit_stream.Unusual:
        return parse_tree(content)
    warnings: list[ParseWarning] = []
    entries = testcases(reading.cases, warnings)
    return report(reading.root_name, reading.root, reading.suites, entries, warnings)


def parse_tree(content: bytes) -> TestReport:
    """The report from defusedxml's element tree: every error, refusal and odd case."""
    root = parse_xml(content)
    name = local_name(root)
    if name not in ("testsuites", "testsuite"):
        raise ArtifactRefused(
            UNPROCESSABLE,
            f"not a JUnit report: the root element is <{name}>, expected <testsuites> or "
            "<testsuite>",
        )
    warnings: list[ParseWarning] = []
    entries = _testcases(root, warnings)
    suites = [child.attrib for child in root if local_name(child) == "testsuite"]
    return report(name, root.attrib, suites, entries, warnings)


def report(
    root_name: str, root: Mapping[str, str], suites: list[Mapping[str, str]],
    entries: list[TestCase], warnings: list[ParseWarning],
) -> TestReport:
    """The report from the root's attributes, its `testsuite` children's attributes and
    every testcase entry in document order (`warnings` so far in document order too)."""
    cases = _fold_reruns(entries, warnings)
    if not cases:
        warnings.append("the report contains no testcase elements")
    return TestReport(
        format="junit",
        tool=_tool(root_name, root, suites),
        cases=tuple(cases),
        duration_seconds=_duration(root, suites, entries, warnings),
        warnings=capped(warnings),
    )


def _testcases(root: Element, warnings: list[ParseWarning]) -> list[TestCase]:
    """Every testcase under the root in document order, nested suites included."""
    found: list[tuple[Mapping[str, str], str, Verdict | None]] = []
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
            found.append((element.attrib, suite_name, _verdict(element)))
    return testcases(found, warnings)


def _verdict(element: Element) -> Verdict | None:
    """The testcase's first child with the highest-ranked verdict name, if any."""
    present = {local_name(child): child for child in reversed(list(element))}
    tag = next((tag for tag in _VERDICT_TAGS if tag in present), None)
    return None if tag is None else (tag, present[tag].attrib, present[tag].text)


def testcases(
    entries: Iterable[tuple[Mapping[str, str], str, Verdict | None]],
    warnings: list[ParseWarning],
) -> list[TestCase]:
    """The testcase entries, in order, from each one's attributes, suite name and verdict
    child (tag, attributes, text before its first child), as either reader finds them.

    One loop over all of them rather than a call per case, with the `time` every case has
    read inline when `float` takes it as it is (`_seconds` words anything else): after
    expat's callbacks, building the cases is most of a large report's parse."""
    cases: list[TestCase] = []
    append = cases.append
    for attributes, suite_name, verdict in entries:
        outcome: Outcome = "passed"
        message: str | None = None
        if verdict is not None:
            tag, verdict_attributes, text = verdict
            outcome = _OUTCOMES[tag]
            message = _message(verdict_attributes.get("message"), text)
        get = attributes.get
        name = get("name")
        if not name:
            warnings.append("a testcase without a name attribute was counted as '<unnamed>'")
            name = "<unnamed>"
        time = get("time")
        seconds: float | None = None
        if time is not None:
            try:
                seconds = float(time)
            except ValueError:
                seconds = _seconds(time, warnings)
            else:
                if not 0 <= seconds < math.inf:  # NaN fails both
                    seconds = _seconds(time, warnings)
        append(new_test_case((
            get("classname") or suite_name, name, get("file") or None, outcome, seconds, message,
        )))
    return cases


def _message(message: str | None, text: str | None) -> str | None:
    if not message and text and text.strip():
        message = text.strip().splitlines()[0]
    if not message:
        return None
    return message[:MAX_MESSAGE_CHARS]


def _fold_reruns(entries: list[TestCase], warnings: list[ParseWarning]) -> list[TestCase]:
    """One case per (classname, name, file): the last entry wins; fail-then-pass is flaky."""
    if len(set(map(_IDENTITY, entries))) == len(entries):
        return entries  # no reruns: what nearly every report is
    folded: dict[tuple[str, str, str | None], TestCase] = {}
    for entry in entries:
        key = _IDENTITY(entry)
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
    if value is None:
        return None
    try:
        seconds = float(value)  # what nearly every report holds: "0.012"
    except ValueError:
        return _unusual_seconds(value, warnings)
    if 0 <= seconds < math.inf:  # NaN fails both
        return seconds
    warnings.append(f"ignored an impossible time value {value[:40]!r}")
    return None


def _unusual_seconds(value: str, warnings: list[ParseWarning]) -> float | None:
    """A `time` that `float` refuses: blank, or written with commas."""
    text = value.strip()
    if not text:
        return None
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
    root: Mapping[str, str], suites: list[Mapping[str, str]], entries: list[TestCase],
    warnings: list[ParseWarning],
) -> float | None:
    """The root's time, else the sum of the top-level suites' times, else of the cases'."""
    root_time = _seconds(root.get("time"), warnings)
    if root_time is not None:
        return root_time
    suite_times = [_seconds(suite.get("time"), warnings) for suite in suites]
    known = [seconds for seconds in suite_times if seconds is not None]
    if known:
        return sum(known)
    case_times = [case.duration_seconds for case in entries if case.duration_seconds is not None]
    return sum(case_times) if case_times else None


def _tool(
    root_name: str, root: Mapping[str, str], suites: list[Mapping[str, str]]
) -> Tool | None:
    schema = root.get(SCHEMA_LOCATION, "")
    if "surefire" in schema:
        return Tool("maven-surefire", None)
    if root_name == "testsuite":
        suites = [root]
    if root.get("name") == "pytest tests" or any(s.get("name") == "pytest" for s in suites):
        return Tool("pytest", None)
    return None
