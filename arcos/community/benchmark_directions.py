"""Which way each quality metric ARCOS derives from reports improves.

A community benchmark is computed from whatever metrics opted-in projects have, but a
percentile or a "better" only means something when the direction is known. Metrics that
measure size rather than quality (tests.total, coverage.lines_valid, sbom.components) or
one event (build.succeeded, findings.new) have no better direction and are left out, which
also keeps a project's size out of what the community sees.
"""

from __future__ import annotations

from arcos.community.benchmark_comparison import Direction
from arcos.formats.results import SEVERITIES

_HIGHER = (
    "coverage.line_rate", "coverage.branch_rate", "coverage.function_rate",
    "coverage.combined_rate", "tests.pass_rate", "build.success_rate",
    "deployment.success_rate",
)
_LOWER = (
    "tests.failed", "tests.errored", "tests.duration_seconds", "build.duration_seconds",
    "build.mean_duration_seconds", "deployment.duration_seconds",
    "deployment.mean_duration_seconds", "findings.total", "vulns.total",
    "vulns.vulnerable_components", "vulns.risk_score", "sbom.licenses_unknown",
    *(f"{prefix}.{severity}" for prefix in ("findings", "vulns") for severity in SEVERITIES),
)

#: The direction of every metric a community benchmark covers, by name.
DIRECTIONS: dict[str, Direction] = {
    **{name: Direction.HIGHER_IS_BETTER for name in _HIGHER},
    **{name: Direction.LOWER_IS_BETTER for name in _LOWER},
}
