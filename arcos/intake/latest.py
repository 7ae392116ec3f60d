"""The newest value of each quality metric of some projects, in one query.

A metric series grows by one row per upload; reading the newest values used to fetch up to
5000 rows newest first and keep the first per name, which both moved thousands of rows and
missed a metric whose newest value was older than the 5000th row of the busy ones. Here the
store ranks the rows (a window function, in SQLite since 3.25 and in PostgreSQL) and
returns only the winners.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from tortoise.expressions import RawSQL

from arcos.intake.models import QualityMetric

#: The newest row of each (project, metric): latest timestamp, and the later insert among
#: rows of one timestamp. `{projects}` is a list of integers, inlined.
_NEWEST_IDS = (
    "(SELECT id FROM (SELECT id, ROW_NUMBER() OVER ("
    "PARTITION BY project_id, name ORDER BY timestamp DESC, id DESC) AS newness "
    "FROM quality_metric WHERE project_id IN ({projects})) ranked WHERE newness = 1)"
)


async def latest_metrics(
    project_ids: Sequence[int], names: Sequence[str] | None = None
) -> dict[int, list[QualityMetric]]:
    """For each project, the newest value of each of its metrics (only `names` when given),
    ordered by name."""
    if not project_ids:
        return {}
    # Integers (cast again here) inlined: no dialect's placeholder style matters.
    projects = ",".join(str(int(project_id)) for project_id in project_ids)
    query = QualityMetric.filter(
        project_id__in=list(project_ids), id__in=RawSQL(_NEWEST_IDS.format(projects=projects))
    )
    if names:
        query = query.filter(name__in=list(names))
    by_project: dict[int, list[QualityMetric]] = defaultdict(list)
    for row in await query.order_by("project_id", "name"):
        by_project[row.project_id].append(row)
    return by_project
