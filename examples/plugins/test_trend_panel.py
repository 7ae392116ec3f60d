"""Test trend panel (visualization plugin).

Input: {"evidence": [{"type": "test_report", "createdAt": "2026-11-30T10:00:00Z",
         "data": {"passed": 120, "failed": 3, "skipped": 4}}, ...], "title"?: "..."}
Returns a declarative panel (JSON only, no HTML or script): a stacked bar chart of test
outcomes per report in time order, with the pass rate as a line.
"""

from datetime import datetime

OUTCOMES = ("passed", "failed", "skipped")


def when(row: dict) -> str:
    stamp = row.get("createdAt") or ""
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).isoformat()
    except ValueError:
        return stamp


def panel(data: dict | None) -> dict:
    request = data or {}
    reports = [row for row in request.get("evidence", [])
               if row.get("type") in ("test_report", "test_results")]
    reports = sorted(reports, key=when)
    labels = [when(row)[:10] for row in reports]
    series = []
    for outcome in OUTCOMES:
        series.append({"name": outcome, "kind": "bar", "stack": "outcomes",
                       "values": [(row.get("data") or {}).get(outcome, 0) for row in reports]})
    rates = []
    for row in reports:
        body = row.get("data") or {}
        total = sum(body.get(outcome, 0) for outcome in OUTCOMES)
        rates.append(round(100.0 * body.get("passed", 0) / total, 1) if total else None)
    series.append({"name": "pass rate %", "kind": "line", "axis": "right", "values": rates})
    return {"kind": "combo", "title": request.get("title", "Test outcomes"),
            "labels": labels, "series": series,
            "axes": {"left": {"label": "tests"}, "right": {"label": "%", "max": 100}}}
