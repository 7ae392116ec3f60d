"""A pattern's effectiveness: what happened to the metrics it targets where it was adopted.

For each project that recorded a use, and each metric the pattern names (its JSON's
`metrics` list), the value at or just before the adoption is compared with the newest
value measured after it, both read from intake's quality-metric series
(arcos.intake.models.QualityMetric). Either end may be missing — no value before the
project adopted it, none since, an unknown project — and then the change is null rather
than a guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from arcos.community.library_models import PatternUse
from arcos.evidence.models import Project
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


async def _reading(project_id: int, metric: str, **window: datetime) -> Reading | None:
    """The newest value of `metric` within `window` (timestamp__lte / timestamp__gt)."""
    row = await QualityMetric.filter(project_id=project_id, name=metric, **window).order_by(
        "-timestamp", "-id").first()
    return Reading(row.value, row.timestamp) if row is not None else None


async def effectiveness(uses: Sequence[PatternUse], metrics: Sequence[str]) -> list[Adoption]:
    """Each adoption in `uses` with the change of each of `metrics` since."""
    projects = {
        row.slug: row.id
        for row in await Project.filter(slug__in=[use.project for use in uses])
    }
    adoptions: list[Adoption] = []
    for use in uses:
        project_id = projects.get(use.project)
        changes = []
        for metric in metrics:
            if project_id is None:
                changes.append(MetricChange(metric, None, None))
                continue
            before = await _reading(project_id, metric, timestamp__lte=use.adopted_at)
            after = await _reading(project_id, metric, timestamp__gt=use.adopted_at)
            changes.append(MetricChange(metric, before, after))
        adoptions.append(Adoption(use.project, use.adopted_at, changes))
    return adoptions
