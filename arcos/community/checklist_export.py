"""A framework's audit checklist as CSV or Markdown, with a project's standing when one was
evaluated: one row per control, its question, the evidence that answers it and, for a
project, the status and the evidence ids behind it."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from enum import StrEnum

from arcos.community.compliance_content import Control, Framework
from arcos.community.compliance_status import ControlResult, FrameworkStatus

COLUMNS = ("control", "title", "question", "evidence")
STATUS_COLUMNS = ("status", "evidence_ids", "detail")
#: Spreadsheets run cells starting with these as formulas (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ChecklistFormat(StrEnum):
    CSV = "csv"
    MARKDOWN = "markdown"


EvidenceId = Callable[[object], str]


def checklist(framework: Framework, status: FrameworkStatus | None, fmt: ChecklistFormat,
              evidence_id: EvidenceId = str) -> str:
    """The checklist text; `evidence_id` turns a stored evidence uid into the id a reader
    uses (a global id in GraphQL)."""
    rows = _rows(framework, status, evidence_id)
    columns = COLUMNS + (STATUS_COLUMNS if status is not None else ())
    if fmt == ChecklistFormat.CSV:
        return _csv(columns, rows)
    return _markdown(framework, status, columns, rows)


def _rows(framework: Framework, status: FrameworkStatus | None,
          evidence_id: EvidenceId) -> list[list[str]]:
    results: dict[str, ControlResult] = (
        {result.control.id: result for result in status.controls} if status else {})
    rows = []
    for control in framework.controls:
        row = [control.id, control.title, control.checklist, _evidence(control)]
        if status is not None:
            result = results[control.id]
            row += [result.status.value.upper(),
                    " ".join(evidence_id(uid) for uid in result.evidence_uids),
                    "; ".join(check.detail for check in result.checks)]
        rows.append(row)
    return rows


def _evidence(control: Control) -> str:
    return "; ".join(check.describe() for check in control.checks)


def _csv(columns: tuple[str, ...], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["'" + cell if cell[:1] in _FORMULA_STARTS else cell for cell in row])
    return out.getvalue()


def _markdown(framework: Framework, status: FrameworkStatus | None,
              columns: tuple[str, ...], rows: list[list[str]]) -> str:
    lines = [f"# {_inline(framework.name)} ({_inline(framework.version)}) audit checklist", ""]
    if status is not None:
        counts = ", ".join(f"{count} {state.value}" for state, count in status.summary.items())
        lines += [f"Project `{_inline(status.project)}`, evaluated "
                  f"{status.evaluated_at.isoformat()}: {counts}.", ""]
    lines.append("| " + " | ".join(columns) + " |")
    lines.append("|" + "---|" * len(columns))
    lines += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _inline(text: str) -> str:
    return " ".join(text.split())


def _cell(text: str) -> str:
    """A table cell: one line, pipes and backslashes escaped, and `<` written as `&lt;` so
    that no shared text opens an HTML tag in a renderer. `>` alone opens nothing, so
    `tests.pass_rate >= 0.95` stays readable in the source."""
    return _inline(text).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;")
