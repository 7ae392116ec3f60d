"""The original benchmark routes as rows of the REST table, with the original request shapes:
`{"benchmark": {…snake_case…}, "permission": "public", "anonymize": false}` to add, and
`{"benchmark_id": …, "metrics": {"name": value}}` to compare. Answers are snake_case (the
operations in `benchmarks_rest.graphql` alias their fields) with lower-case enum values,
in the original envelope `{"success": true, …}`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from arcos.community import rest_bodies
from arcos.community.benchmark_input import MAX_METRICS
from arcos.community.rest_envelope import Envelope, Listing, bad, choice, fields
from arcos.community.sharing import Visibility
from arcos.rest.outcome import refuse_user_errors
from arcos.rest.request import RestCall
from arcos.rest.shapes import JsonSchema, non_null
from arcos.rest.table import QueryParameter, RestRoute

_DIRECTIONS = ("higher_is_better", "lower_is_better")
_METRIC_FIELDS = {"name", "direction", "p25", "p50", "p75", "p90", "mean", "sample_size"}
_ENVELOPE = Envelope("benchmark", frozenset({"name", "industry", "project_type", "metrics"}))
#: Keys whose values are GraphQL enum values, answered lower-case.
_ENUM_KEYS = frozenset({"direction", "visibility", "status", "verdict"})
_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")


def snake(name: str) -> str:
    """`metrics.2.sampleSize` → `metrics.2.sample_size`: REST callers see their own names."""
    return _CAMEL.sub(lambda match: "_" + match.group(1).lower(), name)


def lowered(value: Any) -> Any:
    """The value with every enum value (under `_ENUM_KEYS`) lower-cased."""
    if isinstance(value, list):
        return [lowered(item) for item in value]
    if isinstance(value, dict):
        return {key: item.lower() if key in _ENUM_KEYS and isinstance(item, str)
                else lowered(item) for key, item in value.items()}
    return value


def _lowered_schema(schema: Any) -> Any:
    """JSON Schema of `lowered(...)`: every enum listed lower-case."""
    if isinstance(schema, list):
        return [_lowered_schema(item) for item in schema]
    if isinstance(schema, dict):
        return {key: [v.lower() if isinstance(v, str) else v for v in item] if key == "enum"
                else _lowered_schema(item) for key, item in schema.items()}
    return schema


def _object(properties: dict[str, JsonSchema]) -> JsonSchema:
    return {"type": "object", "properties": properties, "required": sorted(properties)}


@dataclass(frozen=True)
class Shared:
    """`{"success": true, "benchmark": {…}, "benchmark_id": "…"}`, 201; user errors become
    a 422 (409/404 when all share that code) naming the snake_case field."""

    key: str
    status: int = 201
    items_key: str | None = None

    def body(self, value: Any, subject: str) -> Any:
        refuse_user_errors({"errors": [{**error, "field": snake(error["field"] or "") or None}
                                       for error in value["errors"]]})
        item = lowered(value[self.key])
        return {"success": True, self.key: item, f"{self.key}_id": item["id"]}

    def schema(self, value_schema: JsonSchema) -> JsonSchema:
        item = non_null(non_null(value_schema)["properties"][self.key])
        return _object({"success": {"const": True}, self.key: _lowered_schema(item),
                        f"{self.key}_id": {"type": "string"}})


@dataclass(frozen=True)
class Compared:
    """`{"success": true, "comparison": {…}}`."""

    status: int = 200
    items_key: str | None = None

    def body(self, value: Any, subject: str) -> Any:
        return {"success": True, "comparison": lowered(value)}

    def schema(self, value_schema: JsonSchema) -> JsonSchema:
        return _object({"success": {"const": True},
                        "comparison": _lowered_schema(non_null(value_schema))})


def _metric(index: int, raw: Any) -> dict[str, Any]:
    where = f"benchmark.metrics.{index}"
    metric = fields(raw, _METRIC_FIELDS, where)
    converted = {("sampleSize" if key == "sample_size" else key): value
                 for key, value in metric.items()}
    if "direction" in metric:
        converted["direction"] = choice(metric["direction"], _DIRECTIONS, f"{where}.direction")
    return converted


async def _add_variables(call: RestCall) -> dict[str, Any]:
    shared = await _ENVELOPE.read(call)
    benchmark = shared.item
    metrics = benchmark.get("metrics", [])
    if not isinstance(metrics, list):
        raise bad("benchmark.metrics must be a list of metrics")
    if len(metrics) > MAX_METRICS:  # refused before any of them is converted
        refuse_user_errors({"errors": [{"field": "metrics", "code": "TOO_LARGE", "message":
                                        f"at most {MAX_METRICS} metrics (got {len(metrics)})"}]})
    converted = {("projectType" if key == "project_type" else key): value
                 for key, value in benchmark.items() if key != "metrics"}
    return {"input": {
        **converted, "metrics": [_metric(i, m) for i, m in enumerate(metrics)],
        **shared.sharing(Visibility.COMMUNITY),
    }}


async def _list_variables(call: RestCall) -> dict[str, Any]:
    return {"industry": call.text("industry"), "projectType": call.text("project_type"),
            "after": call.text("after")}


async def _compare_variables(call: RestCall) -> dict[str, Any]:
    body = fields(await call.json_object(), {"benchmark_id", "metrics", "project"}, "the body")
    benchmark_id = body.get("benchmark_id")
    if not isinstance(benchmark_id, str) or not benchmark_id:
        raise bad("benchmark_id must be the `id` of a benchmark (a string)")
    metrics = body.get("metrics")
    if metrics is not None:
        if not isinstance(metrics, dict):
            raise bad("metrics must be a JSON object of values by metric name")
        if len(metrics) > MAX_METRICS:
            raise bad(f"metrics: at most {MAX_METRICS} values (got {len(metrics)})")
        metrics = [{"name": name, "value": value} for name, value in metrics.items()]
    return {"benchmark": benchmark_id, "metrics": metrics, "project": body.get("project")}


EXAMPLE_BENCHMARK = {
    "benchmark": {
        "name": "Payments services 2026", "industry": "finance", "project_type": "web_service",
        "metrics": [{"name": "coverage.line_rate", "direction": "higher_is_better",
                     "p25": 0.61, "p50": 0.72, "p75": 0.81, "p90": 0.88, "mean": 0.71,
                     "sample_size": 40}],
    },
    "permission": "public",
}
ADD = ("addBenchmark",)

ROUTES: tuple[RestRoute, ...] = (
    RestRoute(
        "POST", "/api/community/benchmarks/add", "AddBenchmark", _add_variables,
        ADD, Shared("benchmark"), "legacy",
        "Share a benchmark ({\"benchmark\": {name, industry, project_type, metrics: [{name, "
        "direction, p25, p50, p75, p90, mean, sample_size}]}, \"permission\": \"public\"}); "
        "201 with its id, 422 naming each bad field.", legacy=True,
        body_example=EXAMPLE_BENCHMARK, body_schema=rest_bodies.BENCHMARK,
    ),
    RestRoute(
        "GET", "/api/community/benchmarks/list", "ListBenchmarks", _list_variables,
        ("benchmarks",), Listing("benchmarks", lowered, _lowered_schema), "legacy",
        "Benchmarks you may read, newest first, 20 a page; total_count counts only those.",
        query_parameters=(
            QueryParameter("industry", "Only benchmarks of this industry."),
            QueryParameter("project_type", "Only benchmarks of this project type."),
            QueryParameter("after", "`next_cursor` of the previous page."),
        ), legacy=True,
    ),
    RestRoute(
        "POST", "/api/community/benchmarks/compare", "CompareToBenchmark", _compare_variables,
        ("compareToBenchmark",), Compared(), "legacy",
        "Compare values ({\"benchmark_id\": …, \"metrics\": {\"name\": value}}) or a project's "
        "latest metrics ({\"benchmark_id\": …, \"project\": slug}) with a benchmark, "
        "respecting each metric's direction.", legacy=True,
        body_schema=rest_bodies.COMPARE,
        body_example={"benchmark_id": "QmVuY2htYXJrOjEyMw==",
                      "metrics": {"coverage.line_rate": 0.82, "tests.pass_rate": 0.99}},
        subject=lambda call: "such benchmark", body_names_object=True,
    ),
)
