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

from tortoise.functions import Max

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


async def _at_or_before(
    project_id: int, metrics: Sequence[str], moment: datetime
) -> dict[str, Reading]:
    """The newest value of each of `metrics` at or before `moment`, in two queries: the
    newest timestamp per metric, then the rows at those timestamps (the later insert wins
    a tie, as in intake's own reads)."""
    window = QualityMetric.filter(project_id=project_id, name__in=list(metrics),
                                  timestamp__lte=moment)
    newest = await window.annotate(at=Max("timestamp")).group_by("name").values_list(
        "name", "at")
    if not newest:
        return {}
    # Every metric's newest row is among these; a metric's older rows that happen to share
    # another metric's newest timestamp lose to its own newest below.
    best: dict[str, QualityMetric] = {}
    for row in await window.filter(timestamp__in=[at for _, at in newest]):
        held = best.get(row.name)
        if held is None or (row.timestamp, row.id) > (held.timestamp, held.id):
            best[row.name] = row
    return {name: Reading(row.value, row.timestamp) for name, row in best.items()}


async def effectiveness(uses: Sequence[PatternUse], metrics: Sequence[str]) -> list[Adoption]:
    """Each adoption in `uses` with the change of each of `metrics` since: two queries per
    adoption and one for all of their newest values."""
    projects = {
        row.slug: row.id
        for row in await Project.filter(slug__in=[use.project for use in uses])
    }
    newest = await latest_metrics(list(projects.values()), list(metrics)) if metrics else {}
    adoptions: list[Adoption] = []
    for use in uses:
        project_id = projects.get(use.project)
        before = await _at_or_before(project_id, metrics, use.adopted_at) \
            if project_id is not None and metrics else {}
        latest = {row.name: row for row in newest.get(project_id, [])} \
            if project_id is not None else {}
        changes = []
        for metric in metrics:
            row = latest.get(metric)
            after = Reading(row.value, row.timestamp) \
                if row is not None and row.timestamp > use.adopted_at else None
            changes.append(MetricChange(metric, before.get(metric), after))
        adoptions.append(Adoption(use.project, use.adopted_at, changes))
    return adoptions
