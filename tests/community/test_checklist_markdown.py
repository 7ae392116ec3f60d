"""The Markdown checklist keeps shared text readable in its source and inert when rendered:
no cell opens an HTML tag or breaks out of its table column."""

from __future__ import annotations

from arcos.community.checklist_export import ChecklistFormat, checklist
from arcos.community.checks import metric
from arcos.community.compliance_content import Framework, control
from arcos.community.evidence_codes import EvidenceCode


def _table(question: str) -> list[str]:
    framework = Framework("kit", "Kit", "1", "a test framework", (
        control("K-1", "Pass rate", (EvidenceCode.TR,), question,
                (metric("tests.pass_rate >= 0.95"),)),
    ))
    text = checklist(framework, None, ChecklistFormat.MARKDOWN)
    return [line for line in text.splitlines() if line.startswith("| ")]


def test_comparisons_stay_readable_in_the_source() -> None:
    header, row = _table("Do >= 95% of tests pass?")
    assert header == "| control | title | question | evidence |"
    assert "Do >= 95% of tests pass?" in row
    assert "tests.pass_rate >= 0.95" in row


def test_shared_text_cannot_open_a_tag_or_add_a_column() -> None:
    _, row = _table("<img src=x onerror=alert(1)> a | b \\| c\nnext line")
    assert "<" not in row
    assert "&lt;img src=x onerror=alert(1)> a \\| b \\\\\\| c next line" in row
    # four cells, so five unescaped pipes
    assert row.replace("\\\\", "").replace("\\|", "").count("|") == 5
