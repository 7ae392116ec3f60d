"""Community benchmarks computed from real data: opted-in projects' latest quality metrics.

Computed on read rather than refreshed into a table, so an opt-out or a new upload shows at
once and there is no stale copy of anyone's numbers to clean up. The read is bounded: the
newest value of each known-direction metric (arcos/community/benchmark_directions.py) of at
most MAX_CONTRIBUTING_PROJECTS opted-in projects (the most recently opted in, when more
have), one window-function query (arcos/intake/latest.py).

k-anonymity: with k = ARCOS_COMMUNITY_BENCHMARK_MIN_PROJECTS, the benchmark is published
only when at least k projects contribute, and within it each metric only when at least k
projects have a value for it; one value per project per metric. So no published figure
rests on fewer than k projects.

Both an industry's benchmark and each of its project types' benchmarks are published, with
their means and sample sizes, so the industry-wide figure must not be the published cells
plus a few projects of an unpublished one: `mean_all * n_all - sum(published cells)` would
give those few back. Hence the rule: a project's value for a metric enters the
industry-wide benchmark only when its (industry, project type) cell itself publishes that
metric (at least k of its projects have it). The industry-wide figure is then exactly the
union of published cells, and no difference of published figures rests on fewer than k
projects. Each cell reads its own MAX_CONTRIBUTING_PROJECTS most recently opted-in projects,
the same ones its own benchmark reads; the industry-wide benchmark takes whole cells, newest
first, up to MAX_INDUSTRY_PROJECTS.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from arcos.community.benchmark_comparison import MetricBaseline
from arcos.community.benchmark_directions import DIRECTIONS
from arcos.community.benchmarks_models import BenchmarkOptIn
from arcos.intake.latest import latest_metrics

#: Most opted-in projects one project type's benchmark reads (the most recently opted in).
MAX_CONTRIBUTING_PROJECTS = 2000
#: Most opted-in projects an industry-wide benchmark reads (whole cells, newest first).
MAX_INDUSTRY_PROJECTS = 5 * MAX_CONTRIBUTING_PROJECTS


@dataclass(frozen=True)
class CommunityBenchmark:
    industry: str
    #: None: every project type of the industry.
    project_type: str | None
    min_projects: int
    #: Opted-in projects with at least one benchmarked metric.
    contributors: int
    published: bool
    #: Empty unless published; only metrics with at least `min_projects` contributors.
    metrics: tuple[MetricBaseline, ...]
    #: Metrics left out because fewer than `min_projects` projects have them.
    withheld_metrics: int
    explanation: str


def quantile(ordered: Sequence[float], fraction: float) -> float:
    """The `fraction` quantile of ascending values, interpolating linearly between the two
    nearest ranks (the "inclusive" method of statistics.quantiles and numpy's default)."""
    position = (len(ordered) - 1) * fraction
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (position - below) * (ordered[above] - ordered[below])


def summarise(name: str, values: Sequence[float]) -> MetricBaseline:
    """A metric's baseline from one value per contributing project."""
    ordered = sorted(values)
    return MetricBaseline(
        name=name, direction=DIRECTIONS[name], p25=quantile(ordered, 0.25),
        p50=quantile(ordered, 0.5), p75=quantile(ordered, 0.75), p90=quantile(ordered, 0.9),
        mean=math.fsum(ordered) / len(ordered), sample_size=len(ordered))


def _scope(industry: str, project_type: str | None) -> str:
    kind = f", project type {project_type!r}" if project_type else ""
    return f"industry {industry!r}{kind}"


async def _cells(industry: str, project_type: str | None) -> list[list[int]]:
    """The contributing projects of each (industry, project type) cell, newest opt-in
    first: per cell the MAX_CONTRIBUTING_PROJECTS its own benchmark reads, whole cells up
    to MAX_INDUSTRY_PROJECTS in all."""
    opted_in = BenchmarkOptIn.filter(industry=industry)
    if project_type is not None:
        opted_in = opted_in.filter(project_type=project_type)
    rows = await opted_in.order_by("-updated_at", "-id").values_list("project_type",
                                                                     "project_id")
    cells: dict[str, list[int]] = defaultdict(list)
    for kind, project_id in rows:
        if len(cells[kind]) < MAX_CONTRIBUTING_PROJECTS:
            cells[kind].append(int(project_id))
    chosen: list[list[int]] = []
    total = 0
    for ids in cells.values():  # in order of each cell's newest opt-in
        if total + len(ids) > MAX_INDUSTRY_PROJECTS:
            break
        chosen.append(ids)
        total += len(ids)
    return chosen


async def community_benchmark(
    industry: str, project_type: str | None, min_projects: int
) -> CommunityBenchmark:
    """The benchmark of `industry` (and `project_type`, when given), or why it is not
    published yet. Industry-wide, only cells that publish a metric contribute to it."""
    cells = await _cells(industry, project_type)
    latest = await latest_metrics([i for ids in cells for i in ids], names=sorted(DIRECTIONS))
    kept: dict[str, list[float]] = defaultdict(list)
    seen_metrics: set[str] = set()
    contributing: set[int] = set()
    for ids in cells:
        by_metric: dict[str, list[float]] = defaultdict(list)
        for project_id in ids:
            for row in latest.get(project_id, ()):
                if math.isfinite(row.value):
                    by_metric[row.name].append(float(row.value))
        seen_metrics.update(by_metric)
        contributing.update(i for i in ids if latest.get(i))
        for name, values in by_metric.items():
            if len(values) >= min_projects:
                kept[name].extend(values)
    contributors = len(contributing)
    withheld = len(seen_metrics - set(kept))
    where = _scope(industry, project_type)
    if contributors < min_projects:
        return CommunityBenchmark(
            industry, project_type, min_projects, contributors, False, (), withheld,
            f"{contributors} of {min_projects} projects needed: the community benchmark for "
            f"{where} is published once at least {min_projects} opted-in projects have "
            "quality metrics")
    if not kept:
        return CommunityBenchmark(
            industry, project_type, min_projects, contributors, False, (), withheld,
            f"{contributors} projects contribute to {where}, but no metric has values from "
            f"{min_projects} of them yet")
    metrics = tuple(summarise(name, kept[name]) for name in sorted(kept))
    left_out = (f"; {withheld} metric(s) with fewer than {min_projects} contributing "
                "projects are left out") if withheld else ""
    return CommunityBenchmark(
        industry, project_type, min_projects, contributors, True, metrics, withheld,
        f"computed from the latest metrics of {contributors} opted-in projects in {where}"
        + left_out)
