"""LCOV tracefiles (geninfo(1); `coverage lcov`, lcov 2, c8/istanbul) to a CoverageReport with
line, branch and function rates; records for the same file (several TN: sections) are merged."""

from __future__ import annotations

from dataclasses import dataclass, field

from arcos.formats.errors import UNPROCESSABLE, ArtifactRefused, ParseWarning, capped
from arcos.formats.results import CoverageReport, FileCoverage


@dataclass
class _File:
    lines: dict[int, int] = field(default_factory=dict)
    branches: dict[tuple[str, str, str], int] = field(default_factory=dict)
    functions: dict[str, int] = field(default_factory=dict)
    # LF/LH, BRF/BRH, FNF/FNH as written, for files whose detail records were filtered out
    summary: dict[str, int] = field(default_factory=dict)


def parse(content: bytes) -> CoverageReport:
    """Parse an LCOV tracefile."""
    text = content.decode("utf-8", errors="replace")
    warnings: list[ParseWarning] = []
    if "\ufffd" in text:
        warnings.append("the tracefile is not valid UTF-8; undecodable bytes were replaced")
    files: dict[str, _File] = {}
    current: _File | None = None
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        if line == "end_of_record":
            current = None
            continue
        prefix, _, value = line.partition(":")
        if prefix == "SF":
            current = files.setdefault(value, _File())
        elif prefix in ("TN", "VER"):
            continue
        elif current is None:
            raise ArtifactRefused(
                UNPROCESSABLE, f"LCOV line {number}: {prefix} record outside an SF: section"
            )
        else:
            _record(current, prefix, value, number, warnings)
    if not files:
        raise ArtifactRefused(UNPROCESSABLE, "the LCOV tracefile has no SF: (source file) records")
    return _report(files, warnings)


def _record(
    target: _File, prefix: str, value: str, number: int, warnings: list[ParseWarning]
) -> None:
    parts = value.split(",")
    try:
        if prefix == "DA":
            line, count = int(parts[0]), _count(parts[1])
            target.lines[line] = max(target.lines.get(line, 0), count)
        elif prefix == "BRDA":
            key = (parts[0], parts[1], ",".join(parts[2:-1]))
            taken = 0 if parts[-1].strip() == "-" else _count(parts[-1])
            target.branches[key] = max(target.branches.get(key, 0), taken)
        elif prefix == "FN":
            int(parts[0])
            # FN:<line>,<name> (geninfo 1) or FN:<start>,<end>,<name> (lcov 2, coverage.py)
            new_style = len(parts) >= 3 and parts[1].strip().isdigit()
            name = ",".join(parts[2:] if new_style else parts[1:])
            if not name:
                raise ValueError(value)
            target.functions.setdefault(name, 0)
        elif prefix == "FNDA":
            name = ",".join(parts[1:])
            target.functions[name] = max(target.functions.get(name, 0), _count(parts[0]))
        elif prefix in ("LF", "LH", "BRF", "BRH", "FNF", "FNH"):
            # repeated sections (several TN:) each state the whole file's figures
            target.summary[prefix] = max(target.summary.get(prefix, 0), _count(value))
        else:
            warnings.append(f"ignored unknown LCOV record type {prefix[:20]!r}")
    except (IndexError, ValueError):
        warnings.append(f"skipped malformed LCOV {prefix[:20]} record on line {number}")


def _count(value: str) -> int:
    """An execution count; some tools write large counts as floats ('1.2e+06')."""
    count = float(value) if any(mark in value for mark in ".eE") else int(value)
    if not 0 <= count < 2**63:
        raise ValueError(value)
    return int(count)


def _report(files: dict[str, _File], warnings: list[ParseWarning]) -> CoverageReport:
    per_file: list[FileCoverage] = []
    functions_valid = functions_covered = 0
    for path, data in files.items():
        lines_valid, lines_covered = _pair(
            len(data.lines), sum(1 for hits in data.lines.values() if hits > 0),
            data, "LF", "LH", path, warnings,
        )
        branches_valid, branches_covered = _pair(
            len(data.branches), sum(1 for taken in data.branches.values() if taken > 0),
            data, "BRF", "BRH", path, warnings,
        )
        fn_valid, fn_covered = _pair(
            len(data.functions), sum(1 for calls in data.functions.values() if calls > 0),
            data, "FNF", "FNH", path, warnings,
        )
        functions_valid += fn_valid
        functions_covered += fn_covered
        per_file.append(
            FileCoverage(path, lines_valid, lines_covered, branches_valid, branches_covered)
        )
    return CoverageReport(
        format="lcov",
        tool=None,
        lines_valid=sum(item.lines_valid for item in per_file),
        lines_covered=sum(item.lines_covered for item in per_file),
        branches_valid=sum(item.branches_valid for item in per_file),
        branches_covered=sum(item.branches_covered for item in per_file),
        functions_valid=functions_valid,
        functions_covered=functions_covered,
        files=tuple(per_file),
        warnings=capped(warnings),
    )


def _pair(
    valid: int, covered: int, data: _File, valid_key: str, covered_key: str, path: str,
    warnings: list[ParseWarning],
) -> tuple[int, int]:
    """Counts recounted from detail records, else the file's summary records."""
    claimed = (data.summary.get(valid_key), data.summary.get(covered_key))
    if valid == 0 and claimed[0] is not None:
        claimed_valid = claimed[0]
        return claimed_valid, min(claimed[1] or 0, claimed_valid)
    if claimed[0] is not None and claimed != (valid, covered):
        warnings.append(
            f"{path}: {valid_key}/{covered_key} say {claimed[0]}/{claimed[1]} but the records "
            f"give {valid}/{covered}; the records were used"
        )
    return valid, covered
