"""Shared benchmarks: adding one, listing what a caller may read, and comparing a project or
a set of values with one. Every read filters with `readable(caller)`."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

from tortoise.backends.base.client import BaseDBAsyncClient

from arcos.auth.caller import Caller
from arcos.community.benchmark_comparison import (
    Direction,
    MetricBaseline,
    MetricComparison,
    Verdict,
    compare_all,
)
from arcos.community.benchmark_input import (
    MAX_NAME_LENGTH,
    BenchmarkDraft,
    check_benchmark,
    check_values,
)
from arcos.community.benchmarks_models import Benchmark
from arcos.community.scrub import Scrubber, scrubber
from arcos.community.scrubbed_bounds import refuse_grown
from arcos.community.sharing import Visibility, may_change, readable
from arcos.evidence.drafts import MAX_SLUG_LENGTH, SLUG
from arcos.evidence.models import Project
from arcos.evidence.scopes import EVIDENCE_READ
from arcos.intake.latest import latest_metrics
from arcos.problems import ArcosError, BadUserInput, ErrorCode, NotFound, ProblemCode, Refused
from arcos.store.unit_of_work import UnitOfWork
from arcos.store.write_context import WriteContext


def baselines(row: Benchmark) -> list[MetricBaseline]:
    """A stored benchmark's metrics (checked when they were stored)."""
    return [MetricBaseline(**{**item, "direction": Direction(item["direction"])})
            for item in row.metrics]


def _stored(metrics: Sequence[MetricBaseline]) -> list[dict[str, object]]:
    return [{**asdict(metric), "direction": metric.direction.value} for metric in metrics]


def _scrubbed_name(name: str, scrub: Scrubber) -> str:
    """An anonymised benchmark's name as stored: scrubbed, and refused if that outgrew it."""
    scrubbed = scrub.text(name)
    refuse_grown([("name", scrubbed, MAX_NAME_LENGTH)])
    return scrubbed


@dataclass(frozen=True)
class BenchmarkContent:
    """What adding a benchmark and replacing one both take, unchecked: the service checks it
    (`check_benchmark`) and refuses with every bad field."""

    name: str
    industry: str
    project_type: str
    metrics: Sequence[MetricBaseline]
    visibility: Visibility = Visibility.COMMUNITY


def _checked(content: BenchmarkContent) -> BenchmarkDraft:
    return check_benchmark(content.name, content.industry, content.project_type,
                           content.metrics)


async def add_benchmark(
    content: BenchmarkContent, *, anonymize: bool, write: WriteContext
) -> Benchmark:
    """Check and store a benchmark owned by the writer; Refused names every bad field."""
    draft = _checked(content)
    visibility = content.visibility
    title = _scrubbed_name(draft.name, scrubber(write.settings)) if anonymize else draft.name

    async def work(unit: UnitOfWork) -> Benchmark:
        return await Benchmark.create(
            owner=write.principal, visibility=visibility, anonymized=anonymize, name=title,
            industry=draft.industry, project_type=draft.project_type,
            metrics=_stored(draft.metrics), created_at=unit.now, updated_at=unit.now,
            using_db=unit.connection)

    return await write.writer.run(work)


async def update_benchmark(
    uid: str, content: BenchmarkContent, *, caller: Caller, write: WriteContext
) -> Benchmark:
    """Replace a benchmark's content and visibility: its owner or an admin may. An
    anonymised benchmark stays anonymised, its new name scrubbed too."""
    draft, visibility = _checked(content), content.visibility

    async def work(unit: UnitOfWork) -> Benchmark:
        row = (await readable_benchmarks([uid], caller, unit.connection)).get(uid)
        if row is None:
            raise Refused.one("id", "no benchmark with that id that you may read",
                              ProblemCode.NOT_FOUND)
        if not may_change(row, caller):
            raise Refused.one("id", "only the benchmark's owner or an admin may change it",
                              ProblemCode.INVALID)
        row.name = _scrubbed_name(draft.name, scrubber(write.settings)) if row.anonymized \
            else draft.name
        row.industry, row.project_type = draft.industry, draft.project_type
        row.metrics, row.visibility = _stored(draft.metrics), visibility
        row.updated_at = unit.now
        await row.save(using_db=unit.connection, update_fields=[
            "name", "industry", "project_type", "metrics", "visibility", "updated_at"])
        return row

    return await write.writer.run(work)


@dataclass(frozen=True)
class BenchmarkPage:
    rows: list[Benchmark]
    has_next: bool
    total: int


async def page_benchmarks(
    caller: Caller, industry: str | None, project_type: str | None, first: int,
    before: int | None,
) -> BenchmarkPage:
    """Newest first, keyset-paged by row id; `total` counts only what `caller` may read."""
    query = Benchmark.filter(readable(caller))
    if industry is not None:
        query = query.filter(industry=industry.strip().lower())
    if project_type is not None:
        query = query.filter(project_type=project_type.strip().lower())
    total = await query.count()
    if before is not None:
        query = query.filter(id__lt=before)
    rows = await query.order_by("-id").limit(first + 1)
    return BenchmarkPage(rows[:first], len(rows) > first, total)


async def readable_benchmarks(
    uids: Sequence[str], caller: Caller, connection: BaseDBAsyncClient | None = None
) -> dict[str, Benchmark]:
    """The benchmarks with these public ids that `caller` may read, by id; an unreadable
    one is left out exactly like a missing one."""
    keys = {}
    for raw in uids:
        try:
            keys[uuid.UUID(raw)] = raw
        except ValueError:
            continue
    if not keys:
        return {}
    rows = await Benchmark.filter(readable(caller), uid__in=list(keys)).using_db(connection)
    return {keys[row.uid]: row for row in rows}


async def readable_benchmark(uid: str, caller: Caller) -> Benchmark | None:
    """One benchmark by public id, if `caller` may read it."""
    return (await readable_benchmarks([uid], caller)).get(uid)


async def project_values(slug: str, caller: Caller, names: Sequence[str]) -> dict[str, float]:
    """The newest value of each of the project's quality metrics named in `names` (reading
    them needs `evidence:read`, as every other read of a project's metrics does)."""
    if not caller.may(EVIDENCE_READ):
        raise ArcosError("comparing a project reads its quality metrics, which needs the "
                         f"'evidence:read' scope; {caller.name!r} lacks it", ErrorCode.FORBIDDEN)
    normalised = slug.strip().lower()
    if len(normalised) > MAX_SLUG_LENGTH or not SLUG.match(normalised):
        raise BadUserInput("project must be a slug like github.com/owner/repo")
    project = await Project.get_or_none(slug=normalised)
    if project is None:
        raise NotFound(f"no project {normalised!r}")
    if not names:
        return {}
    latest = await latest_metrics([project.id], names)
    return {row.name: float(row.value) for row in latest.get(project.id, [])}


async def values_to_compare(
    metrics: Mapping[str, object] | None, project: str | None, caller: Caller,
    benchmark: Sequence[MetricBaseline],
) -> dict[str, float]:
    """Exactly one of given values or a project's latest values of the benchmark's
    metrics (a project's other metrics are not compared, so not read)."""
    if (metrics is None) == (project is None):
        raise BadUserInput("give either `metrics` (values by name) or `project` (a slug), "
                           "not both and not neither")
    if project is not None:
        return await project_values(project, caller, [m.name for m in benchmark])
    assert metrics is not None
    try:
        return check_values(metrics)
    except Refused as refused:  # a query has no payload for user errors
        raise BadUserInput(str(refused)) from None


@dataclass(frozen=True)
class Comparison:
    metrics: list[MetricComparison]

    def count(self, verdict: Verdict) -> int:
        return sum(1 for metric in self.metrics if metric.verdict is verdict)

    @property
    def not_compared(self) -> int:
        return sum(1 for metric in self.metrics if metric.verdict is None)


def compare(benchmark: Sequence[MetricBaseline], values: Mapping[str, float]) -> Comparison:
    """Every benchmark metric, then each given value the benchmark has no baseline for."""
    return Comparison(compare_all(benchmark, values))
