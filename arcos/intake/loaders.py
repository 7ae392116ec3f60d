"""DataLoaders for intake fields (registered per request: arcos/graphql/loaders.py)."""

from __future__ import annotations

from collections import defaultdict

from arcos.graphql.loaders import ContextLoader
from arcos.intake.latest import latest_metrics
from arcos.intake.models import QualityMetric

#: A project's database id and the metric names asked for (None: every metric).
LatestKey = tuple[int, tuple[str, ...] | None]


class LatestMetricsByProject(ContextLoader[LatestKey, list[QualityMetric]]):
    """`Project.latestMetrics` for every project of a page in one query per distinct
    `names` argument (usually one)."""

    async def batch_load(self, keys: list[LatestKey]) -> list[list[QualityMetric]]:
        projects_by_names: dict[tuple[str, ...] | None, list[int]] = defaultdict(list)
        for project_id, names in keys:
            projects_by_names[names].append(project_id)
        found: dict[LatestKey, list[QualityMetric]] = {}
        for names, project_ids in projects_by_names.items():
            rows = await latest_metrics(project_ids, names)
            found.update({(project_id, names): rows.get(project_id, [])
                          for project_id in project_ids})
        return [found[key] for key in keys]
