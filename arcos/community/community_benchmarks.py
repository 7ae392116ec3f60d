"""Community benchmarks from real data: opted-in projects' latest quality metrics.

The figures come from each (industry, project type) cell's release
(arcos/community/benchmark_releases.py), which changes only in steps of at least k
projects away from its recent releases, so one project's upload or opt-in does not show
between two readings (that module says what it does not stop). The live data is read on
each request (bounded: the newest value of each known-direction metric of at most
MAX_CONTRIBUTING_PROJECTS opted-in projects per cell, in one query) to say how many
projects contribute now and which metrics are withheld.

k-anonymity: with k = ARCOS_COMMUNITY_BENCHMARK_MIN_PROJECTS, a metric is released only
from at least k projects, one value per project.

Both an industry's benchmark and each of its project types' benchmarks are published, with
their means and sample sizes, so the industry-wide figure must not be the published cells
plus a few projects of an unpublished one: `mean_all * n_all - sum(published cells)` would
give those few back. Hence the industry-wide benchmark is exactly the union of its cells'
released values (whole cells, newest opt-in first, up to MAX_INDUSTRY_PROJECTS), and no
difference of published figures rests on fewer than k projects.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from arcos.community.benchmark_comparison import MetricBaseline
from arcos.community.benchmark_directions import DIRECTIONS
from arcos.community.benchmark_releases import MAX_CONTRIBUTING_PROJECTS, Cell, released_cells
from arcos.store.write_context import WriteContext

#: Most released project values an industry-wide benchmark aggregates (whole cells).
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


def _chosen(cells: list[Cell]) -> list[Cell]:
    """Whole cells in order until MAX_INDUSTRY_PROJECTS released projects are reached."""
    chosen: list[Cell] = []
    total = 0
    for cell in cells:
        size = len({project for values in cell.released.values() for project in values})
        if total + size > MAX_INDUSTRY_PROJECTS:
            break
        chosen.append(cell)
        total += size
    return chosen


async def community_benchmark(
    industry: str, project_type: str | None, write: WriteContext
) -> CommunityBenchmark:
    """The benchmark of `industry` (and `project_type`, when given), or why it is not
    published yet, from the cells' releases (refreshed first when due)."""
    min_projects = write.settings.community_benchmark_min_projects
    cells = _chosen(await released_cells(industry, project_type, write))
    kept: dict[str, list[float]] = defaultdict(list)
    for cell in cells:
        for name, by_project in cell.released.items():
            kept[name].extend(by_project.values())
    contributors = sum(cell.live_projects for cell in cells)
    live_metrics = set().union(*(cell.live_metrics for cell in cells))
    withheld = len(live_metrics - set(kept))
    where = _scope(industry, project_type)
    if not kept:
        needed = (f"{contributors} of {min_projects} projects needed: the community benchmark "
                  f"for {where} is published once at least {min_projects} opted-in projects "
                  "have quality metrics") if contributors < min_projects else (
                  f"{contributors} projects contribute to {where}, but no metric can be "
                  f"released yet: each needs values from {min_projects} projects that differ "
                  f"in at least {min_projects} from its recent releases")
        return CommunityBenchmark(industry, project_type, min_projects, contributors, False,
                                  (), withheld, needed)
    metrics = tuple(summarise(name, kept[name]) for name in sorted(kept))
    released = len({(cell.project_type, project) for cell in cells
                    for values in cell.released.values() for project in values})
    left_out = (f"; {withheld} metric(s) with fewer than {min_projects} contributing "
                "projects are left out") if withheld else ""
    return CommunityBenchmark(
        industry, project_type, min_projects, contributors, True, metrics, withheld,
        f"released from the latest metrics of {released} opted-in projects in {where}; a "
        f"metric changes once at least {min_projects} projects' values for it have changed"
        + left_out)
