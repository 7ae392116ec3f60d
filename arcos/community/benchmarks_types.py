"""GraphQL types of benchmarks, their comparisons and community benchmarks."""

from collections.abc import Iterable
from datetime import datetime

import strawberry
from strawberry import relay
from strawberry.types import Info

from arcos.community import benchmarks
from arcos.community.benchmark_comparison import (
    ComparisonStatus,
    Direction,
    MetricBaseline,
    MetricComparison,
    Verdict,
)
from arcos.community.benchmarks_models import Benchmark, BenchmarkOptIn
from arcos.community.community_benchmarks import CommunityBenchmark
from arcos.community.scopes import COMMUNITY_READ
from arcos.community.sharing import Visibility
from arcos.community.sharing_types import CommunityAuthor, author_of
from arcos.graphql.context import ArcosContext
from arcos.graphql.errors import UserError
from arcos.graphql.mirror import mirror
from arcos.registry import NodeKind

strawberry.enum(Direction, name="BenchmarkDirection",
                description="Which way a metric improves.")
strawberry.enum(Verdict, name="BenchmarkVerdict",
                description="A value against the benchmark's median, respecting direction.")
strawberry.enum(ComparisonStatus, name="BenchmarkComparisonStatus",
                description="How far a comparison could go: COMPARED (everything), "
                "ZERO_MEDIAN (no relative delta), DEGENERATE (all quantiles equal: no "
                "percentile), SINGLE_SAMPLE (one sample: no percentile), NO_BASELINE (the "
                "benchmark lacks the metric), NO_VALUE (no value for a benchmark metric).")


BenchmarkMetricType = mirror(MetricBaseline, name="BenchmarkMetric",
                             description="One metric's distribution.")


@strawberry.type(name="Benchmark", description="Metric distributions for an industry and a "
                 "kind of project, shared with the community.")
class BenchmarkType(relay.Node):
    key: relay.NodeID[str]
    name: str
    industry: str
    project_type: str
    metrics: list[BenchmarkMetricType]
    visibility: Visibility
    anonymized: bool
    hidden: bool
    created_at: datetime
    updated_at: datetime
    row: strawberry.Private[Benchmark]

    @classmethod
    def from_model(cls, row: Benchmark) -> "BenchmarkType":
        return cls(
            key=str(row.uid), name=row.name, industry=row.industry,
            project_type=row.project_type,
            metrics=[BenchmarkMetricType.of(m) for m in benchmarks.baselines(row)],
            visibility=Visibility(row.visibility), anonymized=row.anonymized, hidden=row.hidden,
            created_at=row.created_at, updated_at=row.updated_at, row=row)

    @strawberry.field(description="The principal who shared it; null when shared "
                      "anonymised (admins still see it).")
    async def author(self, info: Info[ArcosContext, None]) -> CommunityAuthor | None:
        return await author_of(self.row, info)

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> "list[BenchmarkType | None]":
        ids = list(node_ids)
        rows = await benchmarks.readable_benchmarks(ids, info.context.caller)
        return [cls.from_model(rows[i]) if i in rows else None for i in ids]


@strawberry.type(name="BenchmarkEdge")
class BenchmarkEdge:
    cursor: str
    node: BenchmarkType


@strawberry.type(name="BenchmarkConnection", description="Benchmarks you may read, newest "
                 "first; totalCount counts only those.")
class BenchmarkConnection:
    edges: list[BenchmarkEdge]
    page_info: relay.PageInfo
    total_count: int

    @strawberry.field
    def nodes(self) -> list[BenchmarkType]:
        return [edge.node for edge in self.edges]


@strawberry.type(name="MetricComparison", description="One metric against the benchmark. "
                 "Fields that could not be worked out are null; status and explanation say "
                 "why.")
class MetricComparisonType:
    name: str
    status: ComparisonStatus
    explanation: str
    direction: Direction | None
    value: float | None
    median: float | None
    sample_size: int | None
    percentile: float | None = strawberry.field(
        description="Estimated share (0-100) of the baseline at or below the value: linear "
        "between the quantiles, extrapolated (and clamped to 0-100) beyond p25 and p90.")
    percentile_extrapolated: bool
    better_than: float | None = strawberry.field(
        description="Estimated share (0-100) of the baseline the value beats, respecting "
        "direction (100 - percentile when lower is better).")
    delta: float | None = strawberry.field(description="value - median.")
    relative_delta: float | None = strawberry.field(
        description="delta / |median| (0.1: 10 % above); null when the median is 0.")
    verdict: Verdict | None

    @classmethod
    def of(cls, answer: MetricComparison) -> "MetricComparisonType":
        return cls(
            name=answer.name, status=answer.status, explanation=answer.explanation,
            direction=answer.direction, value=answer.value, median=answer.median,
            sample_size=answer.sample_size, percentile=answer.percentile,
            percentile_extrapolated=answer.percentile_extrapolated,
            better_than=answer.better_than, delta=answer.delta,
            relative_delta=answer.relative_delta, verdict=answer.verdict)


@strawberry.type(name="BenchmarkComparison")
class BenchmarkComparisonType:
    benchmark: BenchmarkType | None = strawberry.field(
        description="The benchmark compared with (null for a community benchmark).")
    metrics: list[MetricComparisonType]
    better: int
    worse: int
    equal: int
    not_compared: int = strawberry.field(description="Metrics with no verdict (see status).")

    @classmethod
    def of(cls, comparison: benchmarks.Comparison,
           benchmark: BenchmarkType | None) -> "BenchmarkComparisonType":
        return cls(
            benchmark=benchmark, metrics=[MetricComparisonType.of(m) for m in comparison.metrics],
            better=comparison.count(Verdict.BETTER), worse=comparison.count(Verdict.WORSE),
            equal=comparison.count(Verdict.EQUAL), not_compared=comparison.not_compared)


@strawberry.input(name="MetricValueInput", description="A value of one metric to compare.")
class MetricValueInput:
    name: str
    value: float


def given_values(metrics: list[MetricValueInput] | None) -> dict[str, object] | None:
    """Input values by name (a repeated name keeps its last value)."""
    return None if metrics is None else {m.name: m.value for m in metrics}


@strawberry.type(name="CommunityBenchmark", description="A benchmark computed from opted-in "
                 "projects' latest quality metrics; published only when at least "
                 "minProjects projects contribute, and each metric only when at least "
                 "minProjects projects have it. An industry-wide benchmark (no projectType) "
                 "counts a project's value for a metric only when its own project type's "
                 "benchmark publishes that metric (minProjects of that type have it), so the "
                 "industry-wide figures are the union of published project-type figures and "
                 "no difference between them singles out fewer than minProjects projects.")
class CommunityBenchmarkType:
    industry: str
    project_type: str | None
    published: bool
    contributors: int = strawberry.field(
        description="Opted-in projects with at least one benchmarked metric.")
    min_projects: int
    withheld_metrics: int = strawberry.field(
        description="Metrics left out for having fewer than minProjects contributors.")
    explanation: str
    metrics: list[BenchmarkMetricType]
    computed: strawberry.Private[CommunityBenchmark]

    @classmethod
    def of(cls, computed: CommunityBenchmark) -> "CommunityBenchmarkType":
        return cls(
            industry=computed.industry, project_type=computed.project_type,
            published=computed.published, contributors=computed.contributors,
            min_projects=computed.min_projects, withheld_metrics=computed.withheld_metrics,
            explanation=computed.explanation,
            metrics=[BenchmarkMetricType.of(m) for m in computed.metrics], computed=computed)

    @strawberry.field(description="Compare values, or a project's latest metrics (needs "
                      "evidence:read), with this benchmark; every metric is NO_BASELINE "
                      "while it is unpublished.")
    async def compare(
        self, info: Info[ArcosContext, None], metrics: list[MetricValueInput] | None = None,
        project: str | None = None,
    ) -> BenchmarkComparisonType:
        baselines = self.computed.metrics
        values = await benchmarks.values_to_compare(given_values(metrics), project,
                                                    info.context.caller, baselines)
        comparison = benchmarks.compare(baselines, values)
        return BenchmarkComparisonType.of(comparison, None)


@strawberry.type(name="BenchmarkOptIn", description="A project lending its latest quality "
                 "metrics to the community benchmark of its industry and project type.")
class BenchmarkOptInType:
    project: str
    industry: str
    project_type: str
    opted_in_by: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: BenchmarkOptIn, project: str) -> "BenchmarkOptInType":
        return cls(project=project, industry=row.industry, project_type=row.project_type,
                   opted_in_by=row.opted_in_by, created_at=row.created_at,
                   updated_at=row.updated_at)


@strawberry.type(name="BenchmarkPayload")
class BenchmarkPayload:
    benchmark: BenchmarkType | None
    errors: list[UserError]


@strawberry.type
class BenchmarkOptInPayload:
    opt_in: BenchmarkOptInType | None
    errors: list[UserError]


@strawberry.type
class BenchmarkOptOutPayload:
    project: str
    opted_out: bool = strawberry.field(description="False when it was not opted in.")
    errors: list[UserError]


NODES: tuple[NodeKind, ...] = (NodeKind(BenchmarkType, COMMUNITY_READ),)
