"""coverage.py JSON (`coverage json`) to a CoverageReport. The line rate is
covered_lines/num_statements: `percent_covered` mixes in branches when branch coverage is on."""

from __future__ import annotations

from typing import Any

from arcos.formats import json_document
from arcos.formats.errors import UNPROCESSABLE, ArtifactRefused, ParseWarning, capped
from arcos.formats.results import CoverageReport, FileCoverage, Tool

_COUNTS = ("covered_lines", "num_statements", "covered_branches", "num_branches")


def parse(content: bytes) -> CoverageReport:
    return from_document(json_document.load(content, what="coverage.py JSON report"))


def from_document(document: Any) -> CoverageReport:
    """Build the report from a parsed coverage.py JSON document (format 2 or 3)."""
    document = json_document.expect_object(document, "the coverage.py report")
    meta = json_document.mapping(document.get("meta"))
    warnings: list[ParseWarning] = []
    if json_document.integer(meta.get("format")) not in (2, 3, None):
        warnings.append(f"unfamiliar coverage.py JSON format {meta.get('format')!r}")
    raw_files = json_document.expect_object(document.get("files", {}), "files")
    files = []
    for path, entry in raw_files.items():
        summary = _summary(json_document.mapping(entry).get("summary"))
        if summary is None:
            warnings.append(f"skipped {path!r}: its summary has no line counts")
            continue
        files.append(FileCoverage(path, summary[1], summary[0], summary[3], summary[2]))
    totals = _summary(document.get("totals"))
    if totals is None:
        if document.get("totals") is not None:
            warnings.append("the totals are unreadable; they were recounted from the files")
        totals = (
            sum(item.lines_covered for item in files),
            sum(item.lines_valid for item in files),
            sum(item.branches_covered for item in files),
            sum(item.branches_valid for item in files),
        )
    covered_lines, statements, covered_branches, branches = totals
    if covered_lines > statements or covered_branches > branches:
        raise ArtifactRefused(
            UNPROCESSABLE, "the report claims more covered lines or branches than exist"
        )
    version = json_document.text(meta.get("version"))
    tool_percent = json_document.number(
        json_document.mapping(document.get("totals")).get("percent_covered")
    )
    return CoverageReport(
        format="coverage-json",
        tool=Tool("coverage.py", version),
        lines_valid=statements,
        lines_covered=covered_lines,
        branches_valid=branches,
        branches_covered=covered_branches,
        files=tuple(files),
        tool_percent_covered=tool_percent,
        warnings=capped(warnings),
    )


def _summary(value: Any) -> tuple[int, int, int, int] | None:
    """(covered_lines, num_statements, covered_branches, num_branches), branches 0 when absent."""
    summary = json_document.mapping(value)
    counts = [json_document.integer(summary.get(key)) for key in _COUNTS]
    covered_lines, statements, covered_branches, branches = counts
    if covered_lines is None or statements is None or covered_lines < 0 or statements < 0:
        return None
    if covered_branches is None or branches is None or covered_branches < 0 or branches < 0:
        covered_branches = branches = 0
    return covered_lines, statements, covered_branches, branches
