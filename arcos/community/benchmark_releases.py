"""Community benchmarks change in steps of at least k projects.

A benchmark computed afresh on every read can be differenced: read it, wait for one
project to upload (or opt in), read again, and that project's value falls out of
`mean * n`. So each (industry, project type) cell keeps a release: the values its published
metrics were computed from. At most every ARCOS_COMMUNITY_BENCHMARK_REFRESH_SECONDS a read
compares the live values with the release, and a metric's values are replaced only when
the live values come from at least k projects AND differ in at least k projects' values
(joined, left or changed) from the current release and from each of the metric's last
HISTORY releases. Comparing with earlier releases too matters: three changes out and three
back would otherwise make the first and third release differ by one project. Otherwise
the release stands, however old.

Leaving a cell (opting out, or moving to another industry or project type) removes the
project's values from that cell at once (`forget_project`). The metrics it was part of are
then withheld rather than recomputed without it, since a figure without it beside the one
with it would give its values back, until a release that differs by k projects from all
of them (and from the release with it) can be made.

What this does not stop, and a reader of these figures should know: linear combinations of
many releases older than HISTORY, and a principal who controls k - 1 opted-in projects of a
cell (each needs evidence:write on its project) and moves them to force a step. Noise
(differential privacy) would; ARCOS does not add it yet.

The comparison and the replacement run in one unit of work with the release rows locked,
against the rows and the live values as they are then, so concurrent refreshes cannot
release a step smaller than k between them.
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
#: Earlier releases of a metric a new one must also differ from by k projects.
HISTORY = 12

#: project id (a string: JSON object keys) -> value.
Inputs = dict[str, float]
#: metric name -> its inputs.
Values = dict[str, Inputs]
#: metric name -> its earlier releases' inputs, newest first.
History = dict[str, list[Inputs]]


def _changed(before: Inputs, after: Inputs) -> int:
    """Projects whose value differs (joined, left or changed)."""
    return sum(1 for project in before.keys() | after.keys()
               if before.get(project) != after.get(project))


def next_release(released: Values, history: History, live: Values,
                 min_projects: int) -> tuple[Values, History]:
    """The values to release and the history after: per metric the live values when at
    least `min_projects` projects give them and they differ by at least `min_projects`
    projects from the current release and each kept earlier one; else the current release
    (a published metric is never withdrawn here: that too would be a step)."""
    out: Values = {}
    kept: History = {name: list(earlier) for name, earlier in history.items()}
    for name in sorted(released.keys() | live.keys()):
        current, now = released.get(name), live.get(name, {})
        earlier = ([current] if current is not None else []) + kept.get(name, [])
        if now != current and len(now) >= min_projects and all(
                _changed(prior, now) >= min_projects for prior in earlier):
            out[name] = now
            if current is not None:
                kept[name] = [current, *kept.get(name, [])][:HISTORY]
        elif current is not None:
            out[name] = current
    return out, kept


def without_project(released: Values, history: History,
                    project: str) -> tuple[Values, History]:
    """The release and history with `project`'s values gone: each metric it was part of is
    withheld (its remaining values kept as its newest earlier release, to be differed
    from), so no figure is ever shown computed without it beside one computed with it."""
    out: Values = {}
    kept: History = {name: [{p: v for p, v in inputs.items() if p != project}
                            for inputs in earlier] for name, earlier in history.items()}
    for name, inputs in released.items():
        if project not in inputs:
            out[name] = inputs
            continue
        rest = {p: v for p, v in inputs.items() if p != project}
        kept[name] = [rest, *kept.get(name, [])][:HISTORY]
    return out, kept


async def forget_project(project_id: int, keep: tuple[str, str] | None,
                         unit: UnitOfWork) -> None:
    """Take `project_id`'s values out of every cell's release but `keep` (its industry and
    project type, when it stays opted in), in `unit`."""
    project = str(project_id)
    rows = await BenchmarkRelease.all().select_for_update().using_db(unit.connection)
    for row in rows:
        if (row.industry, row.project_type) == keep:
            continue
        released, history = without_project(row.released, row.history, project)
        if (released, history) != (row.released, row.history):
            row.released, row.history = released, history
            await row.save(using_db=unit.connection, update_fields=["released", "history"])


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


async def _refresh(industry: str, due: Sequence[str], min_projects: int, refresh: timedelta,
                   write: WriteContext) -> dict[str, BenchmarkRelease]:
    """Compare the due cells' releases with the live values and replace what may be, all
    read with the rows locked; a cell another request checked meanwhile is left as that
    one left it."""

    async def work(unit: UnitOfWork) -> dict[str, BenchmarkRelease]:
        rows = {row.project_type: row for row in await BenchmarkRelease.filter(
            industry=industry, project_type__in=list(due)).select_for_update().using_db(
            unit.connection)}
        stale = [kind for kind in due
                 if kind not in rows or rows[kind].checked_at <= unit.now - refresh]
        cells = {kind: ids for kind, ids in (await _opted_in(industry, None)).items()
                 if kind in stale}
        live = await _live(cells)
        for kind in stale:
            row = rows.get(kind)
            if row is None:
                row = rows[kind] = BenchmarkRelease(
                    industry=industry, project_type=kind, released={}, history={})
            released, history = next_release(row.released, row.history, live.get(kind, {}),
                                              min_projects)
            if released != row.released:
                row.released_at = unit.now
            row.released, row.history, row.checked_at = released, history, unit.now
            await row.save(using_db=unit.connection)
        return rows

    return await write.writer.run(work)


async def released_cells(industry: str, project_type: str | None,
                         write: WriteContext) -> list[Cell]:
    """The cells of `industry` (only `project_type`'s, when given) with their releases,
    brought up to date when due; cells with live opt-ins first, newest opt-in first."""
    settings = write.settings
    cells = await _opted_in(industry, project_type)
    query = BenchmarkRelease.filter(industry=industry)
    if project_type is not None:
        query = query.filter(project_type=project_type)
    stored = await query.values_list("project_type", "checked_at", "released")
    checked = {kind: at for kind, at, _ in stored}
    released: dict[str, Values] = {kind: values for kind, _, values in stored}
    refresh = timedelta(seconds=settings.community_benchmark_refresh_seconds)
    kinds = [*cells, *sorted(checked.keys() - cells.keys())]
    due = [kind for kind in kinds if kind not in checked or
           checked[kind] <= utc_now() - refresh]
    if due:
        refreshed = await _refresh(industry, due, settings.community_benchmark_min_projects,
                                   refresh, write)
        released.update({kind: row.released for kind, row in refreshed.items()})
    live = await _live(cells)
    return [Cell(kind, released.get(kind) or {},
                 sum(1 for project in cells.get(kind, ()) if _has_values(live.get(kind, {}),
                                                                           project)),
                 frozenset(live.get(kind, {})))
            for kind in kinds]


def _has_values(values: Values, project_id: int) -> bool:
    return any(str(project_id) in by_project for by_project in values.values())
