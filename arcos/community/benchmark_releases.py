"""Community benchmarks change in steps of at least k projects.

A benchmark computed afresh on every read can be differenced: read it, wait for one
project to upload (or opt in), read again, and that project's value falls out of
`mean * n`. So each (industry, project type) cell keeps a release: the values its published
metrics were computed from. At most every ARCOS_COMMUNITY_BENCHMARK_REFRESH_SECONDS a read
compares the live values with the release, and a metric's values are replaced only when
the live values come from at least k projects AND at least k projects' values differ from
the released ones (joined, left or changed). Otherwise the release stands, however old: a
stale figure tells nothing new, a fresh one after a single change would.

The price: an opt-out stops a project's new values at once, but its released values stay in
a metric until k changes have gathered for that metric.

The comparison and the replacement run in one unit of work with the release rows locked,
against the rows as they are then, so two concurrent refreshes cannot release a step
smaller than k between them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from arcos.community.benchmark_directions import DIRECTIONS
from arcos.community.benchmarks_models import BenchmarkOptIn, BenchmarkRelease
from arcos.intake.latest import latest_metrics
from arcos.store.unit_of_work import UnitOfWork, utc_now
from arcos.store.write_context import WriteContext

#: Most opted-in projects one cell reads (the most recently opted in).
MAX_CONTRIBUTING_PROJECTS = 2000

#: metric name -> project id (a string: JSON object keys) -> value.
Values = dict[str, dict[str, float]]


def next_release(released: Values, live: Values, min_projects: int) -> Values:
    """The values to release: per metric the live ones when at least `min_projects`
    projects give it and at least `min_projects` of them differ from the release, else the
    released ones (a metric is never withdrawn: that too would be a step smaller than k)."""
    out: Values = {}
    for name in sorted(released.keys() | live.keys()):
        before, now = released.get(name, {}), live.get(name, {})
        changed = sum(1 for project in before.keys() | now.keys()
                      if before.get(project) != now.get(project))
        if len(now) >= min_projects and changed >= min_projects:
            out[name] = now
        elif before:
            out[name] = before
    return out


@dataclass(frozen=True)
class Cell:
    """One (industry, project type) cell: what it has released and what is live now."""

    project_type: str
    released: Values
    #: Opted-in projects with at least one benchmarked metric now.
    live_projects: int
    #: Metrics some opted-in project has now.
    live_metrics: frozenset[str]


async def _opted_in(industry: str, project_type: str | None) -> dict[str, list[int]]:
    """Each cell's opted-in projects, newest opt-in first (cells in that order too), at most
    MAX_CONTRIBUTING_PROJECTS per cell."""
    opted_in = BenchmarkOptIn.filter(industry=industry)
    if project_type is not None:
        opted_in = opted_in.filter(project_type=project_type)
    rows = await opted_in.order_by("-updated_at", "-id").values_list("project_type",
                                                                     "project_id")
    cells: dict[str, list[int]] = defaultdict(list)
    for kind, project_id in rows:
        if len(cells[kind]) < MAX_CONTRIBUTING_PROJECTS:
            cells[kind].append(int(project_id))
    return dict(cells)


async def _live(cells: dict[str, list[int]]) -> dict[str, Values]:
    """Each cell's live values: every opted-in project's newest finite value of each
    metric with a known direction, in one query."""
    latest = await latest_metrics([i for ids in cells.values() for i in ids],
                                  names=sorted(DIRECTIONS))
    live: dict[str, Values] = {}
    for kind, ids in cells.items():
        values: Values = defaultdict(dict)
        for project_id in ids:
            for row in latest.get(project_id, ()):
                if math.isfinite(row.value):
                    values[row.name][str(project_id)] = float(row.value)
        live[kind] = dict(values)
    return live


async def _refresh(industry: str, due: Sequence[str], live: dict[str, Values],
                   min_projects: int, refresh: timedelta,
                   write: WriteContext) -> dict[str, BenchmarkRelease]:
    """Compare the due cells' releases with the live values and replace what may be, with
    the rows locked; a cell another request checked meanwhile is left as that one left it."""

    async def work(unit: UnitOfWork) -> dict[str, BenchmarkRelease]:
        rows = {row.project_type: row for row in await BenchmarkRelease.filter(
            industry=industry, project_type__in=list(due)).select_for_update().using_db(
            unit.connection)}
        for kind in due:
            row, now = rows.get(kind), live.get(kind, {})
            if row is None:
                released = next_release({}, now, min_projects)
                rows[kind] = await BenchmarkRelease.create(
                    industry=industry, project_type=kind, released=released,
                    checked_at=unit.now, released_at=unit.now if released else None,
                    using_db=unit.connection)
                continue
            if row.checked_at > unit.now - refresh:
                continue
            released = next_release(row.released, now, min_projects)
            if released != row.released:
                row.released, row.released_at = released, unit.now
            row.checked_at = unit.now
            await row.save(using_db=unit.connection,
                           update_fields=["released", "released_at", "checked_at"])
        return rows

    return await write.writer.run(work)


async def released_cells(industry: str, project_type: str | None,
                         write: WriteContext) -> list[Cell]:
    """The cells of `industry` (only `project_type`'s, when given) with their releases,
    brought up to date when due; cells with live opt-ins first, newest opt-in first."""
    settings = write.settings
    cells = await _opted_in(industry, project_type)
    live = await _live(cells)
    query = BenchmarkRelease.filter(industry=industry)
    if project_type is not None:
        query = query.filter(project_type=project_type)
    rows = {row.project_type: row for row in await query}
    refresh = timedelta(seconds=settings.community_benchmark_refresh_seconds)
    kinds = [*cells, *sorted(rows.keys() - cells.keys())]
    due = [kind for kind in kinds if kind not in rows or
           rows[kind].checked_at <= utc_now() - refresh]
    if due:
        rows.update(await _refresh(industry, due, live, settings.community_benchmark_min_projects,
                                   refresh, write))
    return [Cell(kind, rows[kind].released if kind in rows else {},
                 sum(1 for project in cells.get(kind, ()) if _has_values(live.get(kind, {}),
                                                                           project)),
                 frozenset(live.get(kind, {})))
            for kind in kinds]


def _has_values(values: Values, project_id: int) -> bool:
    return any(str(project_id) in by_project for by_project in values.values())
