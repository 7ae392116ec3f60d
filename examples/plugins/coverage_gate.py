"""Coverage gate (metric plugin).

Input: {"evidence": [{"type": "coverage_report", "data": {"line_rate": 0.83}}, ...],
        "threshold": 80}
Each coverage report gives a line rate (a fraction, as ARCOS's coverage parsers store it)
or a "percent". Returns metrics, oldest report first in the input, the latest one last:
[{"name": "coverage.line_percent", "value": 83.0}, ...].
"""

import statistics

COVERAGE_TYPES = ("coverage", "coverage_report")


def line_percent(body: dict) -> float | None:
    if body.get("line_rate") is not None:
        return 100.0 * body["line_rate"]
    if body.get("percent") is not None:
        return float(body["percent"])
    return None


def gate(data: dict | None) -> list:
    request = data or {}
    threshold = float(request.get("threshold", 80))
    percents = []
    for row in request.get("evidence", []):
        if row.get("type") in COVERAGE_TYPES:
            percent = line_percent(row.get("data") or {})
            if percent is not None:
                percents.append(percent)
    metrics = [{"name": "coverage.reports", "value": len(percents)}]
    if percents:
        latest = percents[-1]
        metrics.append({"name": "coverage.line_percent", "value": round(latest, 2)})
        metrics.append({"name": "coverage.mean_percent",
                        "value": round(statistics.mean(percents), 2)})
        metrics.append({"name": "coverage.gate_passed",
                        "value": 1 if latest >= threshold else 0})
    return metrics
