"""qualityMetricSeries: a project's metrics over a range, bucketed by the store (SQLite and
PostgreSQL), its bounds, its permission, and what the cost limit counts for it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

PROJECT = "acme/series"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
SELECTION = "name buckets { start end timestamp min max mean last count }"


async def seed(app: Any, values: dict[str, list[tuple[datetime, float]]]) -> None:
    """Metric rows with chosen times: the API stamps a metric with its upload's commit
    time, so rows are written with the models (the app's store is open)."""
    from arcos.intake.models import QualityMetric

    async with app.client(app.admin_token) as http:
        response = await http.post("/api/v1/evidence", json={
            "type": "t", "source": "s", "data": {}, "project": PROJECT})
        assert response.status_code in (200, 201), response.text
    from arcos.evidence.models import Project

    project = await Project.get(slug=PROJECT)
    await QualityMetric.bulk_create([
        QualityMetric(project_id=project.id, name=name, value=value, timestamp=at,
                      evidence_uid=uuid.uuid4(), metadata={})
        for name, points in values.items() for at, value in points
    ])


#: a: ten hourly values 0, 10, …, 90 from T0, plus 100 one millisecond before T0 + 2 h (the
#: end of the first 2-hour bucket); b: one value at T0 + 5.5 h; c: a day before T0.
KNOWN = {
    "a": [(T0 + i * HOUR, 10.0 * i) for i in range(10)]
    + [(T0 + 2 * HOUR - timedelta(milliseconds=1), 100.0)],
    "b": [(T0 + 5.5 * HOUR, 7.0)],
    "c": [(T0 - 24 * HOUR, 1.0)],
}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def series(gql: Any, arguments: str) -> Any:
    body = await gql(f"{{ qualityMetricSeries({arguments}) {{ {SELECTION} }} }}")
    assert "errors" not in body, body
    return body["data"]["qualityMetricSeries"]


async def test_buckets_summarise_known_values(app, gql):
    await seed(app, KNOWN)
    found = await series(gql, f'project: "{PROJECT.upper()}", names: ["a", "b", "none"], '
                         f'from: "{T0.isoformat()}", to: "{(T0 + 10 * HOUR).isoformat()}", '
                         "points: 5")
    assert [s["name"] for s in found] == ["a", "b", "none"]
    a, b, none = found
    assert none["buckets"] == []
    assert [at(x["start"]) for x in a["buckets"]] == [T0 + 2 * i * HOUR for i in range(5)]
    assert [at(x["end"]) for x in a["buckets"]] == [T0 + 2 * (i + 1) * HOUR for i in range(5)]
    first = a["buckets"][0]
    assert (first["min"], first["max"], first["count"], first["last"]) == (0.0, 100.0, 3, 100.0)
    assert first["mean"] == pytest.approx(110 / 3)
    assert [x["count"] for x in a["buckets"]] == [3, 2, 2, 2, 2]
    assert [x["min"] for x in a["buckets"][1:]] == [20.0, 40.0, 60.0, 80.0]
    assert [x["max"] for x in a["buckets"][1:]] == [30.0, 50.0, 70.0, 90.0]
    assert [x["last"] for x in a["buckets"][1:]] == [30.0, 50.0, 70.0, 90.0]
    assert [x["mean"] for x in a["buckets"][1:]] == [25.0, 45.0, 65.0, 85.0]
    assert at(a["buckets"][1]["timestamp"]) == T0 + 2.5 * HOUR  # the mean time
    [only] = b["buckets"]
    assert (only["min"], only["max"], only["mean"], only["last"], only["count"]) == (
        7.0, 7.0, 7.0, 7.0, 1)
    assert at(only["timestamp"]) == T0 + 5.5 * HOUR
    assert at(only["start"]) == T0 + 4 * HOUR

    # `to` is exclusive, `from` inclusive, and other times' offsets are honoured.
    later = await series(gql, f'project: "{PROJECT}", names: ["a"], '
                         'from: "2026-01-01T06:00:00+02:00", to: "2026-01-01T09:00:00Z", '
                         "points: 2")
    assert [(x["count"], x["min"], x["max"]) for x in later[0]["buckets"]] == [
        (3, 40.0, 60.0), (2, 70.0, 80.0)]


async def test_range_defaults_to_the_first_and_last_values(app, gql):
    await seed(app, KNOWN)
    found = await series(gql, f'project: "{PROJECT}", points: 3')
    assert [s["name"] for s in found] == ["a", "b", "c"]  # every metric, by name
    starts = [at(x["start"]) for s in found for x in s["buckets"]]
    assert min(starts) == T0 - 24 * HOUR
    assert sum(x["count"] for s in found for x in s["buckets"]) == 13
    # 33 h split in 3: c alone in the first bucket; a and b in the last.
    assert [len(s["buckets"]) for s in found] == [1, 1, 1]
    assert at(found[0]["buckets"][0]["end"]) >= T0 + 9 * HOUR
    only_from = await series(gql, f'project: "{PROJECT}", names: ["a"], points: 400, '
                             f'from: "{(T0 + 8 * HOUR).isoformat()}"')
    assert [x["max"] for x in only_from[0]["buckets"]] == [80.0, 90.0]
    assert await series(gql, 'project: "no/such", names: ["a"]') == [
        {"name": "a", "buckets": []}]
    assert await series(gql, 'project: "no/such", points: 40') == []


@pytest.mark.parametrize(("arguments", "says"), [
    ('names: ["a"], points: 1', "points must be between 2 and 1000"),
    ('names: ["a"], points: 1001', "points must be between 2 and 1000"),
    ('from: "2026-01-02T00:00:00Z", to: "2026-01-01T00:00:00Z"', "must be before to"),
    ('from: "2026-01-01T00:00:00Z", to: "2026-01-01T00:00:00Z"', "must be before to"),
    # A naive bound is UTC: it compares with an aware one instead of failing.
    ('from: "2026-01-02T00:00:00", to: "2026-01-01T00:00:00Z"', "must be before to"),
    ('from: "2026-01-01T06:00:00+05:00", to: "2026-01-01T00:00:00"', "must be before to"),
    ('from: "0001-01-01T00:30:00+01:00"', "outside the range a time can have in UTC"),
    ("names: []", "at least one metric"),
    ("names: [" + ", ".join(f'"m{i}"' for i in range(11)) + "]", "at most 10 metrics"),
])
async def test_bounds_are_bad_user_input(gql, arguments, says):
    body = await gql(f'{{ qualityMetricSeries(project: "{PROJECT}", {arguments}) {{ name }} }}')
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert says in error["message"], error


async def test_too_many_metrics_without_names_is_bad_user_input(app, gql):
    await seed(app, {f"m{i:02}": [(T0, 1.0)] for i in range(11)})
    body = await gql(f'{{ qualityMetricSeries(project: "{PROJECT}") {{ name }} }}')
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "list at most 10 of them in names" in body["errors"][0]["message"]


async def test_needs_evidence_read(app):
    await seed(app, KNOWN)
    document = f'{{ qualityMetricSeries(project: "{PROJECT}") {{ name }} }}'
    for scope, allowed in (("community:read", False), ("evidence:write", False),
                           ("evidence:read", True)):
        async with app.client(await app.issue("series-" + scope.replace(":", "-"), scope)) as http:
            body = (await http.post("/graphql", json={"query": document})).json()
        if allowed:
            assert [s["name"] for s in body["data"]["qualityMetricSeries"]] == ["a", "b", "c"]
        else:
            assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
            assert "evidence:read" in body["errors"][0]["message"]


async def test_cost_counts_names_times_points(gql):
    """The cost walker reads the series' size from `names` and `points` (LIST_ITEMS): a
    dashboard's five plots of 100 buckets fit the default budget of 5,000; the same with
    `points` as a variable counts the maximum, 1,000, and is refused before running."""
    names = '["a", "b", "c", "d", "e"]'
    fields = "name buckets { timestamp min max mean count }"
    fits = await gql(f'{{ qualityMetricSeries(project: "{PROJECT}", names: {names}, '
                     f"points: 100) {{ {fields} }} }}")
    assert "errors" not in fits, fits
    refused = await gql(f'query($p: Int!) {{ qualityMetricSeries(project: "{PROJECT}", '
                        f"names: {names}, points: $p) {{ {fields} }} }}", {"p": 100})
    assert refused["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX", refused
    assert "names/points" in refused["errors"][0]["message"]
    too_many = await gql(f'{{ qualityMetricSeries(project: "{PROJECT}", names: {names}, '
                         f"points: 200) {{ {fields} }} }}")
    assert too_many["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX", too_many


async def test_a_value_just_before_to_stays_in_the_last_bucket(app, gql):
    """SQLite reads times to the millisecond, rounding: 0.4 ms before `to` reads as `to`
    itself, which would make a bucket past the last one without the clamp."""
    await seed(app, {"edge": [(T0, 1.0), (T0 + 10 * HOUR - timedelta(microseconds=400), 2.0)]})
    found = await series(gql, f'project: "{PROJECT}", names: ["edge"], '
                         f'from: "{T0.isoformat()}", to: "{(T0 + 10 * HOUR).isoformat()}", '
                         "points: 5")
    assert [(at(x["start"]), x["last"]) for x in found[0]["buckets"]] == [
        (T0, 1.0), (T0 + 8 * HOUR, 2.0)]


async def test_a_long_range_in_few_buckets(app, gql):
    """Ninety days in five buckets: bucket offsets past 2^31 ms (PostgreSQL's 32-bit
    integer literals must never be multiplied)."""
    start = T0 - 90 * 24 * HOUR
    await seed(app, {"slow": [(start + i * 24 * HOUR, float(i)) for i in range(90)]})
    found = await series(gql, f'project: "{PROJECT}", names: ["slow"], '
                         f'from: "{start.isoformat()}", to: "{T0.isoformat()}", points: 5')
    assert [(x["count"], x["min"], x["max"]) for x in found[0]["buckets"]] == [
        (18, 18.0 * i, 18.0 * i + 17) for i in range(5)]
