"""Cobertura XML (coverage.py `coverage xml`, Java Cobertura, gcovr) to a CoverageReport,
recounting lines and branches from the per-line elements and keeping root totals as a check."""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from arcos.formats.errors import UNPROCESSABLE, ArtifactRefused, ParseWarning, capped
from arcos.formats.results import CoverageReport, FileCoverage, Tool
from arcos.formats.xml import children, local_name, parse_xml

_CONDITIONS = re.compile(r"\((\d+)\s*/\s*(\d+)\)")


@dataclass
class _Line:
    hits: int
    branches_valid: int = 0
    branches_covered: int = 0


def parse(content: bytes) -> CoverageReport:
    """Parse a Cobertura `coverage` document."""
    root = parse_xml(content)
    if local_name(root) != "coverage":
        raise ArtifactRefused(
            UNPROCESSABLE,
            f"not a Cobertura report: the root element is <{local_name(root)}>, "
            "expected <coverage>",
        )
    warnings: list[ParseWarning] = []
    files = _files(root, warnings)
    if files:
        lines_valid = sum(item.lines_valid for item in files)
        lines_covered = sum(item.lines_covered for item in files)
        branches_valid = sum(item.branches_valid for item in files)
        branches_covered = sum(item.branches_covered for item in files)
        _compare_with_root(root, lines_valid, lines_covered, warnings)
    else:
        lines_valid = _count(root, "lines-valid", warnings)
        lines_covered = _count(root, "lines-covered", warnings)
        branches_valid = _count(root, "branches-valid", warnings)
        branches_covered = _count(root, "branches-covered", warnings)
        warnings.append("the report has no per-line data; totals come from the root attributes")
    if lines_covered > lines_valid or branches_covered > branches_valid:
        raise ArtifactRefused(
            UNPROCESSABLE, "the report claims more covered lines or branches than exist"
        )
    version = root.get("version")
    tool = Tool("coverage.py", version) if b"coverage.py" in content[:2048] else None
    return CoverageReport(
        format="cobertura",
        tool=tool,
        lines_valid=lines_valid,
        lines_covered=lines_covered,
        branches_valid=branches_valid,
        branches_covered=branches_covered,
        files=tuple(files),
        warnings=capped(warnings),
    )


def _files(root: Element, warnings: list[ParseWarning]) -> list[FileCoverage]:
    """Per-file counts; a file split over several <class> elements is merged line by line."""
    per_file: dict[str, dict[int, _Line]] = {}
    for packages in children(root, "packages"):
        for package in children(packages, "package"):
            for classes in children(package, "classes"):
                for klass in children(classes, "class"):
                    path = klass.get("filename") or klass.get("name") or "<unknown>"
                    lines = per_file.setdefault(path, {})
                    for lines_element in children(klass, "lines"):
                        for line in children(lines_element, "line"):
                            _merge_line(lines, line, warnings)
    return [
        FileCoverage(
            path=path,
            lines_valid=len(lines),
            lines_covered=sum(1 for line in lines.values() if line.hits > 0),
            branches_valid=sum(line.branches_valid for line in lines.values()),
            branches_covered=sum(line.branches_covered for line in lines.values()),
        )
        for path, lines in per_file.items()
        if lines
    ]


def _merge_line(lines: dict[int, _Line], element: Element, warnings: list[ParseWarning]) -> None:
    number = _int(element.get("number"))
    hits = _int(element.get("hits"))
    if number is None or hits is None or hits < 0:
        warnings.append("skipped <line> elements without a valid number or hits attribute")
        return
    valid = covered = 0
    if element.get("branch") == "true":
        match = _CONDITIONS.search(element.get("condition-coverage", ""))
        if match:
            covered, valid = int(match.group(1)), int(match.group(2))
            covered = min(covered, valid)
    known = lines.get(number)
    if known is None:
        lines[number] = _Line(hits, valid, covered)
    else:
        known.hits = max(known.hits, hits)
        known.branches_valid = max(known.branches_valid, valid)
        known.branches_covered = max(known.branches_covered, covered)


def _compare_with_root(
    root: Element, lines_valid: int, lines_covered: int, warnings: list[ParseWarning]
) -> None:
    claimed_valid = _int(root.get("lines-valid"))
    claimed_covered = _int(root.get("lines-covered"))
    if claimed_valid is not None and claimed_covered is not None and (
        (claimed_valid, claimed_covered) != (lines_valid, lines_covered)
    ):
        warnings.append(
            f"the root claims {claimed_covered}/{claimed_valid} lines covered but the line "
            f"elements give {lines_covered}/{lines_valid}; the line elements were used"
        )


def _count(root: Element, attribute: str, warnings: list[ParseWarning]) -> int:
    value = _int(root.get(attribute))
    if value is None or value < 0:
        if root.get(attribute) is not None:
            warnings.append(f"ignored an unreadable {attribute} attribute")
        return 0
    return value


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        try:
            as_float = float(value)
        except ValueError:
            return None
        return int(as_float) if as_float.is_integer() else None
