"""pluginStats: what the catalogue holds and how its plugins have run.

Counts are GROUP BYs in the store. Duration percentiles are computed over the most recent
DURATION_WINDOW executions (a window keeps the read bounded however long the server runs).
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.functions import Count

from arcos.plugins.models import ExecutionStatus, PluginExecution, PluginVersion

DURATION_WINDOW = 10_000
TOP_PLUGINS = 10


@dataclass(frozen=True)
class PluginStats:
    plugins_by_type: dict[str, int]
    versions_by_state: dict[str, int]
    executions: int
    failures: int
    p50_ms: float | None
    p95_ms: float | None
    top_plugins: list[tuple[str, int]]


async def plugin_stats() -> PluginStats:
    by_type = await (PluginVersion.filter(is_latest=True, removed_at=None)
                     .annotate(count=Count("id")).group_by("kind").values("kind", "count"))
    by_state = await (PluginVersion.filter(removed_at=None).annotate(count=Count("id"))
                      .group_by("state").values("state", "count"))
    executions = await PluginExecution.all().count()
    ran = PluginExecution.exclude(status=ExecutionStatus.NOT_RUN)
    failures = await ran.exclude(status=ExecutionStatus.SUCCEEDED).count()
    durations = sorted(await ran.order_by("-id").limit(DURATION_WINDOW)
                       .values_list("duration_ms", flat=True))
    top = await (PluginExecution.all().annotate(count=Count("id")).group_by("plugin_id")
                 .order_by("-count", "plugin_id").limit(TOP_PLUGINS)
                 .values_list("plugin_id", "count"))
    return PluginStats(
        plugins_by_type={row["kind"]: row["count"] for row in by_type},
        versions_by_state={str(row["state"]): row["count"] for row in by_state},
        executions=executions,
        failures=failures,
        p50_ms=percentile(durations, 50),
        p95_ms=percentile(durations, 95),
        top_plugins=[(plugin_id, count) for plugin_id, count in top],
    )


def percentile(ordered: list[float], pct: int) -> float | None:
    """The nearest-rank percentile of an ascending list; None when it is empty."""
    if not ordered:
        return None
    rank = max(1, -(-pct * len(ordered) // 100))  # ceil(pct/100 * n)
    return float(ordered[rank - 1])
