"""A pattern's effectiveness: what happened to the metrics it targets where it was adopted.

For each project that recorded a use, and each metric the pattern names (its JSON's
`metrics` list), the value at or just before the adoption is compared with the newest
value measured after it, both read from intake's quality-metric series
(arcos.intake.models.QualityMetric). Either end may be missing — no value before the
project adopted it, none since, an unknown project — and then the change is null rather
than a guess.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise import connections

from arcos.community.library_models import PatternUse
from arcos.evidence.models import Project
from arcos.intake.latest import latest_metrics
from arcos.intake.models import QualityMetric


@dataclass(frozen=True)
class Reading:
    value: float
    at: datetime


@dataclass(frozen=True)
class MetricChange:
    metric: str
    before: Reading | None
    after: Reading | None

    @property
    def change(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        return self.after.value - self.before.value


@dataclass(frozen=True)
class Adoption:
    project: str
    adopted_at: datetime
    changes: list[MetricChange]


#: For each adoption (a pattern use), the newest row of each metric of its project at or
#: before its adoption: one ranked query for a whole page of adoptions. `{uses}` is a list
#: of integers, inlined (no dialect's placeholder style matters).
_BEFORE = (
    "SELECT use_id, metric_id FROM (SELECT u.id AS use_id, q.id AS metric_id, "
    "ROW_NUMBER() OVER (PARTITION BY u.id, q.name ORDER BY q.timestamp DESC, q.id DESC) "
    "AS newness FROM community_pattern_use u JOIN project p ON p.slug = u.project "
    "JOIN quality_metric q ON q.project_id = p.id AND q.timestamp <= u.adopted_at "
    "WHERE u.id IN ({uses})) ranked WHERE newness = 1"
)


async def _at_or_before(uses: Sequence[PatternUse]) -> dict[int, dict[str, Reading]]:
    """Per use id, the newest value of each of its project's metrics at or before its
    adoption, in two queries whatever the number of uses: the winners' ids ranked by the
    store, then those rows."""
    if not uses:
        return {}
    inlined = ",".join(str(int(use.id)) for use in uses)
    pairs = await connections.get("default").execute_query_dict(_BEFORE.format(uses=inlined))
    rows = {row.id: row for row in await QualityMetric.filter(
        id__in=[int(pair["metric_id"]) for pair in pairs])}
    found: dict[int, dict[str, Reading]] = defaultdict(dict)
    for pair in pairs:
        row = rows[int(pair["metric_id"])]
        found[int(pair["use_id"])][row.name] = Reading(row.value, row.timestamp)
    return found


async def effectiveness(
    uses: Sequence[PatternUse], metrics_of: Mapping[int, Sequence[str]]
) -> list[Adoption]:
    """Each adoption in `uses` (of any patterns) with the change of each metric its pattern
    targets (`metrics_of[pattern id]`) since: four queries for all of them together."""
    measured = [use for use in uses if metrics_of.get(use.pattern_id)]
    projects = {
        row.slug: row.id
        for row in await Project.filter(slug__in=[use.project for use in measured])
    }
    names = sorted({name for use in measured for name in metrics_of[use.pattern_id]})
    newest = await latest_metrics(list(projects.values()), names) if projects else {}
    before_all = await _at_or_before([use for use in measured if use.project in projects])
    return [_adoption(use, metrics_of.get(use.pattern_id, ()), projects, newest, before_all)
            for use in uses]


def _adoption(use: PatternUse, metrics: Sequence[str], projects: Mapping[str, int],
              newest: Mapping[int, Sequence[QualityMetric]],
              before_all: Mapping[int, Mapping[str, Reading]]) -> Adoption:
    project_id = projects.get(use.project)
    latest = {row.name: row for row in newest.get(project_id, [])} \
        if project_id is not None else {}
    before = before_all.get(use.id, {})
    changes = []
    for metric in metrics:
        row = latest.get(metric)
        after = Reading(row.value, row.timestamp) \
            if row is not None and row.timestamp > use.adopted_at else None
        changes.append(MetricChange(metric, before.get(metric), after))
    return Adoption(use.project, use.adopted_at, changes)
