"""Benchmark queries and mutations: add, list, compare, community benchmarks and opting a
project in or out. Resolvers check, call, shape."""

from functools import partial
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from arcos.auth.permissions import requires
from arcos.community import benchmark_opt_in, benchmarks
from arcos.community.benchmark_comparison import Direction, MetricBaseline
from arcos.community.benchmark_input import MAX_METRICS, label
from arcos.community.benchmarks import BenchmarkContent
from arcos.community.benchmarks_models import Benchmark, BenchmarkOptIn
from arcos.community.benchmarks_types import (
    BenchmarkComparisonType,
    BenchmarkConnection,
    BenchmarkEdge,
    BenchmarkOptInPayload,
    BenchmarkOptInType,
    BenchmarkOptOutPayload,
    BenchmarkPayload,
    BenchmarkType,
    CommunityBenchmarkType,
    MetricValueInput,
    given_values,
)
from arcos.community.community_benchmarks import community_benchmark
from arcos.community.scopes import COMMUNITY_READ, COMMUNITY_WRITE
from arcos.community.sharing import Visibility
from arcos.evidence.drafts import MAX_SLUG_LENGTH
from arcos.graphql.context import ArcosContext
from arcos.graphql.errors import payload_of
from arcos.graphql.metadata import JSON_SCHEMA, MAX_LENGTH, column_bound
from arcos.graphql.pagination import PageRequest
from arcos.problems import BadUserInput, NotFound, Problem, ProblemCode, Refused

READ = [requires(COMMUNITY_READ)]
WRITE = [requires(COMMUNITY_WRITE)]
CURSOR = "benchmark"
_LABEL = {**column_bound(Benchmark, "industry"), JSON_SCHEMA: {"minLength": 1, "maxLength": 64}}
_TYPE = {**column_bound(BenchmarkOptIn, "project_type"),
         JSON_SCHEMA: {"minLength": 1, "maxLength": 64}}
_SLUG = {MAX_LENGTH: MAX_SLUG_LENGTH, JSON_SCHEMA: {"minLength": 1, "maxLength": MAX_SLUG_LENGTH}}


@strawberry.input(name="BenchmarkMetricInput", description="One metric's distribution: "
                  "quantiles must not decrease (p25 <= p50 <= p75 <= p90).")
class BenchmarkMetricInput:
    name: str = strawberry.field(description="A metric name like coverage.line_rate.",
                                 metadata={JSON_SCHEMA: {"minLength": 1, "maxLength": 64}})
    direction: Direction
    p25: float
    p50: float
    p75: float
    p90: float
    mean: float | None = None
    sample_size: int = strawberry.field(description="How many values the figures summarise "
                                        "(at least 1).")

    def baseline(self) -> MetricBaseline:
        return MetricBaseline(name=self.name, direction=self.direction, p25=self.p25,
                              p50=self.p50, p75=self.p75, p90=self.p90, mean=self.mean,
                              sample_size=self.sample_size)


@strawberry.input(name="BenchmarkFieldsInput")
class BenchmarkFieldsInput:
    """What adding and updating a benchmark both take."""

    name: str = strawberry.field(metadata={JSON_SCHEMA: {"minLength": 1, "maxLength": 200}})
    industry: str = strawberry.field(description="e.g. finance, healthcare.",
                                     metadata={JSON_SCHEMA: {"minLength": 1, "maxLength": 64}})
    project_type: str = strawberry.field(description="e.g. web_service, library.",
                                         metadata={JSON_SCHEMA: {"minLength": 1,
                                                                 "maxLength": 64}})
    metrics: list[BenchmarkMetricInput] = strawberry.field(
        description=f"1 to {MAX_METRICS} metrics with unique names.")
    visibility: Visibility = Visibility.COMMUNITY

    def content(self) -> BenchmarkContent:
        return BenchmarkContent(
            name=self.name, industry=self.industry, project_type=self.project_type,
            metrics=[metric.baseline() for metric in self.metrics], visibility=self.visibility)


@strawberry.input(name="AddBenchmarkInput")
class AddBenchmarkInput(BenchmarkFieldsInput):
    anonymize: bool = strawberry.field(default=False, description="Hide the author from all "
                                       "but admins and scrub identifying text from the name.")


@strawberry.input(name="UpdateBenchmarkInput", description="A benchmark's new content, "
                  "replacing the old; an anonymised benchmark stays anonymised.")
class UpdateBenchmarkInput(BenchmarkFieldsInput):
    id: relay.GlobalID


@strawberry.input(name="OptInCommunityBenchmarksInput")
class OptInCommunityBenchmarksInput:
    project: str = strawberry.field(metadata=_SLUG)
    industry: str = strawberry.field(metadata={JSON_SCHEMA: {"minLength": 1, "maxLength": 64}})
    project_type: str = strawberry.field(
        metadata={JSON_SCHEMA: {"minLength": 1, "maxLength": 64}})


@strawberry.input(name="OptOutCommunityBenchmarksInput")
class OptOutCommunityBenchmarksInput:
    project: str = strawberry.field(metadata=_SLUG)


def _benchmark_uid(id: relay.GlobalID) -> str:
    if id.type_name != "Benchmark":
        raise NotFound(f"{id} is not a Benchmark id; pass a Benchmark's `id`")
    return id.node_id


@strawberry.type
class BenchmarkQueries:
    @strawberry.field(description="Benchmarks you may read, newest first.",
                      permission_classes=READ)
    async def benchmarks(
        self, info: Info[ArcosContext, None],
        industry: Annotated[str | None, strawberry.argument(metadata=_LABEL)] = None,
        project_type: Annotated[str | None, strawberry.argument(metadata=_TYPE)] = None,
        first: int = 50, after: str | None = None,
    ) -> BenchmarkConnection:
        context = info.context
        request = PageRequest.of(CURSOR, first, after, context.settings.max_page_size)
        found = await benchmarks.page_benchmarks(context.caller, industry, project_type, first,
                                                 request.position)
        page = request.by_key(found.rows, found.has_next)
        return BenchmarkConnection(edges=page.edges(BenchmarkEdge, BenchmarkType.from_model),
                                   page_info=page.info, total_count=found.total)

    @strawberry.field(description="Compare values (`metrics`) or a project's latest quality "
                      "metrics (`project`, needs evidence:read) with a benchmark: per metric "
                      "the estimated percentile, the delta to the median and a verdict that "
                      "respects the metric's direction.", permission_classes=READ)
    async def compare_to_benchmark(
        self, info: Info[ArcosContext, None], benchmark: relay.GlobalID,
        metrics: list[MetricValueInput] | None = None,
        project: Annotated[str | None, strawberry.argument(metadata=_SLUG)] = None,
    ) -> BenchmarkComparisonType:
        caller = info.context.caller
        row = await benchmarks.readable_benchmark(_benchmark_uid(benchmark), caller)
        if row is None:
            raise NotFound(f"no benchmark {benchmark}")
        baselines = benchmarks.baselines(row)
        values = await benchmarks.values_to_compare(given_values(metrics), project, caller,
                                                    baselines)
        comparison = benchmarks.compare(baselines, values)
        return BenchmarkComparisonType.of(comparison, BenchmarkType.from_model(row))

    @strawberry.field(description="The benchmark of an industry (and project type) computed "
                      "from opted-in projects' latest quality metrics, or why it is not "
                      "published yet. k-anonymity (k = minProjects): a metric is published "
                      "only from at least k projects, and industry-wide only from project "
                      "types that publish it themselves, so no published figure can be "
                      "differenced down to fewer than k projects.", permission_classes=READ)
    async def community_benchmark(
        self, info: Info[ArcosContext, None],
        industry: Annotated[str, strawberry.argument(metadata=_LABEL)],
        project_type: Annotated[str | None, strawberry.argument(metadata=_TYPE)] = None,
    ) -> CommunityBenchmarkType:
        problems: list[Problem] = []
        checked = label("industry", "industry", industry, problems)
        kind = label("projectType", "projectType", project_type, problems) \
            if project_type is not None else None
        if problems:
            raise BadUserInput(str(Refused(problems)))
        computed = await community_benchmark(checked, kind, info.context.write_context())
        return CommunityBenchmarkType.of(computed)


@strawberry.type
class BenchmarkMutations:
    @strawberry.mutation(description="Share a benchmark: metric distributions for an industry "
                         "and a kind of project.", permission_classes=WRITE)
    async def add_benchmark(
        self, info: Info[ArcosContext, None], input: AddBenchmarkInput
    ) -> BenchmarkPayload:
        context = info.context
        return await payload_of(
            benchmarks.add_benchmark(
                input.content(), anonymize=input.anonymize, write=context.write_context()),
            _benchmark_payload, partial(BenchmarkPayload, benchmark=None))

    @strawberry.mutation(description="Replace a benchmark's content and visibility: its "
                         "owner or an admin may.", permission_classes=WRITE)
    async def update_benchmark(
        self, info: Info[ArcosContext, None], input: UpdateBenchmarkInput
    ) -> BenchmarkPayload:
        context = info.context

        async def update() -> Benchmark:
            if input.id.type_name != "Benchmark":
                raise Refused.one("id", "pass a Benchmark's `id`", ProblemCode.NOT_FOUND)
            return await benchmarks.update_benchmark(
                input.id.node_id, input.content(), caller=context.caller,
                write=context.write_context())

        return await payload_of(update(), _benchmark_payload,
                                partial(BenchmarkPayload, benchmark=None))

    @strawberry.mutation(description="Lend a project's latest quality metrics to the "
                         "community benchmark of its industry and project type (needs "
                         "evidence:write too). Opting in again changes industry or type.",
                         permission_classes=WRITE)
    async def opt_in_community_benchmarks(
        self, info: Info[ArcosContext, None], input: OptInCommunityBenchmarksInput
    ) -> BenchmarkOptInPayload:
        context = info.context
        return await payload_of(
            benchmark_opt_in.opt_in(input.project, input.industry, input.project_type,
                                    context.caller, context.write_context()),
            lambda done: BenchmarkOptInPayload(opt_in=BenchmarkOptInType.of(*done), errors=[]),
            partial(BenchmarkOptInPayload, opt_in=None))

    @strawberry.mutation(description="Stop a project contributing to community benchmarks "
                         "(needs evidence:write too). Its values leave every released benchmark at "
                         "once; the metrics they were part of are withheld until a release "
                         "k projects away from them can be made.",
                         permission_classes=WRITE)
    async def opt_out_community_benchmarks(
        self, info: Info[ArcosContext, None], input: OptOutCommunityBenchmarksInput
    ) -> BenchmarkOptOutPayload:
        context = info.context
        return await payload_of(
            benchmark_opt_in.opt_out(input.project, context.caller, context.write_context()),
            lambda removed: BenchmarkOptOutPayload(
                project=input.project.strip().lower(), opted_out=removed, errors=[]),
            partial(BenchmarkOptOutPayload, project=input.project, opted_out=False))


def _benchmark_payload(row: Benchmark) -> BenchmarkPayload:
    return BenchmarkPayload(benchmark=BenchmarkType.from_model(row), errors=[])
