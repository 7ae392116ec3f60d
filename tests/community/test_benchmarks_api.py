"""Benchmarks through GraphQL: sharing, who reads what (lists, totalCount, node, compare,
stats), comparisons that respect direction, and bad input refused by field with nothing
written."""

from __future__ import annotations

from typing import Any

import pytest
from benchmarks_kit import ADD, LIST, Principals, add, added, benchmark_input, metric, principals
from conftest import GraphQLClient, RunningApp

from arcos.community.benchmark_comparison import Direction, MetricBaseline
from arcos.community.benchmark_input import check_benchmark
from arcos.problems import Refused
from arcos.settings import Settings

COMPARE = """
query($benchmark: ID!, $metrics: [MetricValueInput!]) {
  compareToBenchmark(benchmark: $benchmark, metrics: $metrics) {
    benchmark { id } better worse equal notCompared
    metrics { name status explanation percentile betterThan delta relativeDelta verdict }
  }
}"""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace(anonymous_read=True)


@pytest.fixture
async def who(app: RunningApp) -> Any:
    people = await principals(app)
    yield people
    await people.close()


async def listed(gql: GraphQLClient, **variables: Any) -> dict[str, Any]:
    body = await gql(LIST, {"first": 50, **variables})
    assert "errors" not in body, body
    return body["data"]["benchmarks"]


async def test_a_shared_benchmark_reads_back_as_given(who: Principals):
    benchmark = await added(who.owner, visibility="COMMUNITY", industry=" Finance ",
                            metrics=[metric(), metric("build.duration_seconds",
                                                      "LOWER_IS_BETTER", (60, 120, 300, 600),
                                                      sample_size=1, mean=None)])
    assert (benchmark["industry"], benchmark["projectType"]) == ("finance", "web_service")
    assert benchmark["visibility"] == "COMMUNITY" and benchmark["author"] == {"name": "alice"}
    assert benchmark["metrics"][1] == {
        "name": "build.duration_seconds", "direction": "LOWER_IS_BETTER", "p25": 60.0,
        "p50": 120.0, "p75": 300.0, "p90": 600.0, "mean": None, "sampleSize": 1}
    node = await who.member(
        'query($id: ID!) { node(id: $id) { ... on Benchmark { id name metrics { name } } } }',
        {"id": benchmark["id"]})
    assert node["data"]["node"]["name"] == "Payments services"


# (principal, sees PUBLIC, COMMUNITY, PRIVATE) of alice's three benchmarks
MATRIX = [("owner", True, True, True), ("member", True, True, False),
          ("anonymous", True, False, False), ("admin", True, True, True)]


@pytest.mark.parametrize(("principal", "public", "community", "private"), MATRIX)
async def test_visibility_holds_on_every_read_path(
    who: Principals, principal: str, public: bool, community: bool, private: bool
):
    ids = {v: (await added(who.owner, visibility=v, name=f"bench {v}"))["id"]
           for v in ("PUBLIC", "COMMUNITY", "PRIVATE")}
    expected = {"PUBLIC": public, "COMMUNITY": community, "PRIVATE": private}
    gql: GraphQLClient = getattr(who, principal)
    page = await listed(gql)
    assert page["totalCount"] == sum(expected.values())
    assert {node["id"] for node in page["nodes"]} == {
        ids[v] for v, seen in expected.items() if seen}
    assert (await listed(gql, industry="finance"))["totalCount"] == sum(expected.values())
    for visibility, benchmark_id in ids.items():
        node = await gql('query($id: ID!) { node(id: $id) { id } }', {"id": benchmark_id})
        assert (node["data"]["node"] is not None) == expected[visibility], (visibility, node)
        compared = await gql(COMPARE, {"benchmark": benchmark_id,
                                       "metrics": [{"name": "coverage.line_rate",
                                                    "value": 0.8}]})
        if expected[visibility]:
            assert compared["data"]["compareToBenchmark"]["better"] == 1
        else:
            assert compared["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    stats = await gql("{ communityStats { kinds { kind public community private total } } }")
    counts = next(k for k in stats["data"]["communityStats"]["kinds"]
                  if k["kind"] == "benchmark")
    assert (counts["public"], counts["community"], counts["private"]) == (
        int(expected["PUBLIC"]), int(expected["COMMUNITY"]), int(expected["PRIVATE"]))


async def test_a_members_community_item_is_hidden_from_anonymous_readers(who: Principals,
                                                                         app: RunningApp):
    carol = app.client(await app.issue("carol", "community:read", "community:write"))
    try:
        await added(GraphQLClient(carol), visibility="COMMUNITY", name="carol's")
        await added(GraphQLClient(carol), visibility="PRIVATE", name="carol's private")
    finally:
        await carol.aclose()
    assert (await listed(who.member))["totalCount"] == 1
    assert (await listed(who.owner))["totalCount"] == 1  # not alice's private ones: none
    assert (await listed(who.anonymous))["totalCount"] == 0
    assert (await listed(who.admin))["totalCount"] == 2


async def test_pages_follow_the_cursor_and_anonymised_authors_are_hidden(who: Principals):
    for n in range(3):
        await added(who.owner, name=f"b{n}", anonymize=True)
    first = await listed(who.member, first=2)
    assert [n["name"] for n in first["nodes"]] == ["b2", "b1"] and first["totalCount"] == 3
    assert first["pageInfo"]["hasNextPage"]
    rest = await listed(who.member, first=2, after=first["pageInfo"]["endCursor"])
    assert [n["name"] for n in rest["nodes"]] == ["b0"] and not rest["pageInfo"]["hasNextPage"]
    authors = await who.member("{ benchmarks(first: 5) { nodes { author { name } anonymized } } }")
    assert {(n["author"], n["anonymized"]) for n in
            authors["data"]["benchmarks"]["nodes"]} == {(None, True)}
    admin_view = await who.admin("{ benchmarks(first: 5) { nodes { author { name } } } }")
    assert {n["author"]["name"] for n in admin_view["data"]["benchmarks"]["nodes"]} == {"alice"}


async def test_anonymised_names_are_scrubbed_before_storage(who: Principals):
    benchmark = await added(who.owner, name="Mail alice@acme.example about it", anonymize=True)
    assert benchmark["name"] == "Mail [redacted:email] about it"


async def test_comparison_respects_direction_and_answers_a_zero_baseline(who: Principals):
    benchmark = await added(who.owner, metrics=[
        metric(),
        metric("build.duration_seconds", "LOWER_IS_BETTER", (60, 120, 300, 600)),
        metric("findings.critical", "LOWER_IS_BETTER", (0, 0, 0, 1)),
        metric("tests.pass_rate", "HIGHER_IS_BETTER", (0.9, 0.9, 0.9, 0.9), sample_size=1),
    ])
    body = await who.member(COMPARE, {"benchmark": benchmark["id"], "metrics": [
        {"name": "coverage.line_rate", "value": 0.65},
        {"name": "build.duration_seconds", "value": 90},
        {"name": "findings.critical", "value": 2},
        {"name": "sbom.components", "value": 12},
    ]})
    assert "errors" not in body, body
    result = body["data"]["compareToBenchmark"]
    by_name = {m["name"]: m for m in result["metrics"]}
    assert by_name["coverage.line_rate"]["verdict"] == "WORSE"
    assert by_name["coverage.line_rate"]["percentile"] == pytest.approx(37.5)
    duration = by_name["build.duration_seconds"]
    assert duration["verdict"] == "BETTER" and duration["betterThan"] == pytest.approx(62.5)
    critical = by_name["findings.critical"]
    assert (critical["status"], critical["verdict"], critical["relativeDelta"]) == (
        "ZERO_MEDIAN", "WORSE", None)
    assert critical["delta"] == 2 and "median is 0" in critical["explanation"]
    assert by_name["tests.pass_rate"]["status"] == "NO_VALUE"
    assert by_name["sbom.components"]["status"] == "NO_BASELINE"
    assert (result["better"], result["worse"], result["equal"], result["notCompared"]) == (
        1, 2, 0, 2)


async def test_comparing_needs_exactly_one_source_and_sane_values(who: Principals):
    benchmark = await added(who.owner)
    neither = await who.member(COMPARE, {"benchmark": benchmark["id"]})
    assert neither["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "either `metrics`" in neither["errors"][0]["message"]
    bad_name = await who.member(COMPARE, {"benchmark": benchmark["id"], "metrics": [
        {"name": "Not A Metric!", "value": 1}]})
    assert bad_name["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "metric name" in bad_name["errors"][0]["message"]
    huge = await who.member(COMPARE, {"benchmark": benchmark["id"], "metrics": [
        {"name": "coverage.line_rate", "value": 1e300}]})
    assert "between" in huge["errors"][0]["message"]
    project = await who.member(
        'query($b: ID!) { compareToBenchmark(benchmark: $b, project: "github.com/a/b") '
        '{ better } }', {"b": benchmark["id"]})
    assert project["errors"][0]["extensions"]["code"] == "FORBIDDEN"  # no evidence:read


BAD_INPUT = [
    ({"metrics": [metric(quantiles=(0.6, 0.7, 0.65, 0.9))]}, "metrics.0.p75", "INVALID",
     "quantiles must not decrease"),
    ({"metrics": [metric(sample_size=0)]}, "metrics.0.sampleSize", "INVALID", "from 1"),
    ({"metrics": [metric(), metric()]}, "metrics.1.name", "CONFLICT", "given twice"),
    ({"metrics": [metric(name="Coverage Line")]}, "metrics.0.name", "INVALID", "metric name"),
    ({"metrics": [metric(quantiles=(0, 1, 2, 1e20))]}, "metrics.0.p90", "INVALID", "between"),
    ({"metrics": []}, "metrics", "REQUIRED", "at least one metric"),
    ({"metrics": [metric(name=f"m.{i}") for i in range(10_000)]}, "metrics", "TOO_LARGE",
     "at most 100"),
    ({"industry": "fin ance"}, "industry", "INVALID", "industry must be"),
    ({"name": "  "}, "name", "INVALID", "name must be"),
]


@pytest.mark.parametrize(("fields", "field", "code", "words"), BAD_INPUT)
async def test_bad_input_is_refused_by_field_and_nothing_is_written(
    who: Principals, fields: dict[str, Any], field: str, code: str, words: str
):
    payload = await add(who.owner, **fields)
    assert payload["benchmark"] is None
    error = next(e for e in payload["errors"] if e["field"] == field)
    assert error["code"] == code and words in error["message"], payload["errors"]
    assert (await listed(who.admin))["totalCount"] == 0


async def test_unknown_direction_and_non_numbers_fail_as_bad_user_input(who: Principals):
    for broken in (metric(direction="SIDEWAYS_IS_BETTER"), {**metric(), "p50": "high"},
                   {**metric(), "sampleSize": 2.5}):
        body = await who.owner(ADD, {"input": benchmark_input(metrics=[broken])})
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
        assert "metrics" in body["errors"][0]["message"]
    assert (await listed(who.admin))["totalCount"] == 0


def test_nan_and_infinity_are_refused_by_the_service_with_their_field():
    for value in (float("nan"), float("inf")):
        broken = MetricBaseline("coverage.line_rate", Direction.HIGHER_IS_BETTER, 0.1, value,
                                0.3, 0.4, value, 5)
        with pytest.raises(Refused) as refused:
            check_benchmark("b", "finance", "web_service", [broken])
        fields = {problem.field for problem in refused.value.problems}
        assert fields == {"metrics.0.p50", "metrics.0.mean"}
        assert "finite" in refused.value.problems[0].message


async def test_sharing_needs_community_write(who: Principals):
    body = await who.member(ADD, {"input": benchmark_input()})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await who.anonymous(ADD, {"input": benchmark_input()})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_withdrawn_and_hidden_benchmarks_leave_every_read(who: Principals):
    kept = await added(who.owner, name="kept")
    withdrawn = await added(who.owner, name="withdrawn")
    hidden = await added(who.owner, name="hidden")
    body = await who.owner('mutation($id: ID!) { withdrawCommunityItem(id: $id) { errors { '
                           'message } } }', {"id": withdrawn["id"]})
    assert body["data"]["withdrawCommunityItem"]["errors"] == [], body
    body = await who.admin('mutation($id: ID!) { hideCommunityItem(id: $id, reason: "spam") '
                           '{ errors { message } } }', {"id": hidden["id"]})
    assert body["data"]["hideCommunityItem"]["errors"] == [], body
    member_page = await listed(who.member)
    assert [n["id"] for n in member_page["nodes"]] == [kept["id"]]
    assert member_page["totalCount"] == 1
    assert (await listed(who.admin))["totalCount"] == 2  # admins still see hidden items
    gone = await who.member(COMPARE, {"benchmark": withdrawn["id"], "metrics": [
        {"name": "coverage.line_rate", "value": 0.5}]})
    assert gone["errors"][0]["extensions"]["code"] == "NOT_FOUND"


UPDATE = """
mutation($input: UpdateBenchmarkInput!) {
  updateBenchmark(input: $input) {
    benchmark { id name visibility metrics { name p50 } } errors { field message code }
  }
}"""


def _update(benchmark_id: str, **fields: Any) -> dict[str, Any]:
    changes = benchmark_input(**fields)
    changes.pop("anonymize", None)
    return {"input": {**changes, "id": benchmark_id}}


async def test_owners_and_admins_update_a_benchmark_and_others_cannot(who: Principals,
                                                                      app: RunningApp):
    benchmark = await added(who.owner, name="Mail a@b.example", anonymize=True)
    changed = await who.owner(UPDATE, _update(
        benchmark["id"], name="Ask carol@acme.example", visibility="PRIVATE",
        metrics=[metric(quantiles=(0.5, 0.6, 0.7, 0.8))]))
    payload = changed["data"]["updateBenchmark"]
    assert payload["errors"] == [], payload
    assert payload["benchmark"]["name"] == "Ask [redacted:email]"  # stays anonymised
    assert payload["benchmark"]["visibility"] == "PRIVATE"
    assert payload["benchmark"]["metrics"] == [{"name": "coverage.line_rate", "p50": 0.6}]
    assert (await listed(who.member))["totalCount"] == 0  # now private

    carol = app.client(await app.issue("carol", "community:read", "community:write"))
    try:
        public = await added(who.owner, name="public one")
        refused = await GraphQLClient(carol)(UPDATE, _update(public["id"], name="mine now"))
        error = refused["data"]["updateBenchmark"]["errors"][0]
        assert (error["field"], error["code"]) == ("id", "INVALID")
        hidden = await GraphQLClient(carol)(UPDATE, _update(benchmark["id"], name="x"))
        assert hidden["data"]["updateBenchmark"]["errors"][0]["code"] == "NOT_FOUND"
    finally:
        await carol.aclose()
    bad = await who.owner(UPDATE, _update(public["id"], metrics=[metric(sample_size=0)]))
    assert bad["data"]["updateBenchmark"]["errors"][0]["field"] == "metrics.0.sampleSize"
    by_admin = await who.admin(UPDATE, _update(public["id"], name="moderated"))
    assert by_admin["data"]["updateBenchmark"]["benchmark"]["name"] == "moderated"
    names = {n["name"] for n in (await listed(who.member))["nodes"]}
    assert names == {"moderated"}  # the refused updates changed nothing
