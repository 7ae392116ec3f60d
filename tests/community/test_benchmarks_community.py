"""Community benchmarks from real data: projects fed through the intake API (LCOV coverage
reports and build records), opted in by someone who may write their evidence, aggregated
only when at least k projects (ARCOS_COMMUNITY_BENCHMARK_MIN_PROJECTS, default 5) give
each metric. Figures are released and change only in steps of at least k projects; this
module re-releases on every read (ARCOS_COMMUNITY_BENCHMARK_REFRESH_SECONDS=0) so that each
step is checked at once."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import GraphQLClient, RunningApp

from arcos.community.benchmarks_models import BenchmarkRelease
from arcos.evidence.models import Project
from arcos.settings import Settings

INTAKE = """
mutation($input: ArtifactInput!, $coverage: Boolean!) {
  submitCoverageReport(input: $input) @include(if: $coverage) { errors { message } metrics { name value } }
  recordBuild(input: $input) @skip(if: $coverage) { errors { message } metrics { name value } }
}"""
OPT_IN = """
mutation($project: String!, $industry: String!, $type: String!) {
  optInCommunityBenchmarks(input: {project: $project, industry: $industry, projectType: $type}) {
    optIn { project industry projectType optedInBy } errors { field message code }
  }
}"""
OPT_OUT = """
mutation($project: String!) {
  optOutCommunityBenchmarks(input: {project: $project}) { project optedOut errors { field } }
}"""
COMMUNITY = """
query($industry: String!, $type: String) {
  communityBenchmark(industry: $industry, projectType: $type) {
    industry projectType published contributors minProjects withheldMetrics explanation
    metrics { name direction p25 p50 p75 p90 mean sampleSize }
  }
}"""
COMPARE_PROJECT = """
query($project: String!) {
  communityBenchmark(industry: "finance") {
    compare(project: $project) { better worse equal notCompared
      metrics { name status verdict percentile value } }
  }
}"""
#: Line rates of the five finance projects, and build durations of the first four.
RATES = [0.50, 0.90, 0.70, 0.60, 0.80]
DURATIONS = [100.0, 300.0, 200.0, 400.0]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace(community_benchmark_refresh_seconds=0)


def lcov(covered: int, total: int) -> str:
    """An LCOV tracefile of one source file with `covered` of `total` lines hit."""
    lines = [f"DA:{n},{1 if n <= covered else 0}" for n in range(1, total + 1)]
    return "\n".join(["TN:", "SF:src/app.py", *lines, f"LF:{total}", f"LH:{covered}",
                      "end_of_record", ""])


async def upload(gql: GraphQLClient, project: str, *, rate: float | None = None,
                 duration: float | None = None) -> None:
    if rate is not None:
        content, coverage = lcov(round(rate * 100), 100), True
    else:
        content, coverage = json.dumps({"status": "success", "duration_seconds": duration}), False
    body = await gql(INTAKE, {"coverage": coverage,
                              "input": {"content": content, "project": project}})
    assert "errors" not in body, body
    payload = next(v for v in body["data"].values() if v is not None)
    assert payload["errors"] == [], payload


async def opt_in(gql: GraphQLClient, project: str, industry: str = "finance",
                 kind: str = "web_service") -> dict[str, Any]:
    body = await gql(OPT_IN, {"project": project, "industry": industry, "type": kind})
    assert "errors" not in body, body
    return body["data"]["optInCommunityBenchmarks"]


async def community(gql: GraphQLClient, industry: str = "finance",
                    kind: str | None = None) -> dict[str, Any]:
    body = await gql(COMMUNITY, {"industry": industry, "type": kind})
    assert "errors" not in body, body
    return body["data"]["communityBenchmark"]


def project(n: int) -> str:
    return f"github.com/acme/service-{n}"


async def test_k_anonymity_refuses_below_k_and_publishes_at_k(app: RunningApp,
                                                              gql: GraphQLClient):
    reader = app.client(await app.issue("reader", "community:read"))
    member = GraphQLClient(reader)
    try:
        for n, rate in enumerate(RATES):
            await upload(gql, project(n), rate=rate)
            if n < len(DURATIONS):
                await upload(gql, project(n), duration=DURATIONS[n])
        # Not opted in: fed, but never counted. Another industry: not counted either.
        await upload(gql, "github.com/acme/private", rate=0.01)
        await upload(gql, "github.com/acme/clinic", rate=0.99)
        assert (await opt_in(gql, "github.com/acme/clinic", "healthcare"))["errors"] == []
        for n in range(4):
            assert (await opt_in(gql, project(n)))["optIn"]["optedInBy"] == "test-admin"

        below = await community(member)
        assert (below["published"], below["contributors"], below["minProjects"]) == (
            False, 4, 5)
        assert below["metrics"] == []
        assert below["explanation"].startswith("4 of 5 projects needed")

        await opt_in(gql, project(4))
        at_k = await community(member)
        assert (at_k["published"], at_k["contributors"]) == (True, 5)
        by_name = {m["name"]: m for m in at_k["metrics"]}
        line = by_name["coverage.line_rate"]
        assert (line["direction"], line["sampleSize"]) == ("HIGHER_IS_BETTER", 5)
        assert (line["p25"], line["p50"], line["p75"]) == pytest.approx((0.6, 0.7, 0.8))
        assert line["p90"] == pytest.approx(0.86) and line["mean"] == pytest.approx(0.7)
        # Only four projects recorded builds: their metrics stay unpublished at k = 5.
        assert "build.duration_seconds" not in by_name
        assert "build.success_rate" not in by_name
        assert at_k["withheldMetrics"] >= 2
        # Size metrics (coverage.lines_valid) have no direction and are never published.
        assert "coverage.lines_valid" not in by_name

        # One project's new upload does not move the figures: reading before and after
        # would give its value back. A sixth project opting in does not either.
        await upload(gql, project(0), rate=0.95)
        await upload(gql, project(5), rate=0.99)
        await opt_in(gql, project(5))
        held = {m["name"]: m for m in (await community(member))["metrics"]}
        assert held["coverage.line_rate"] == line
        # Once k projects' values have changed, the newest value of each replaces the
        # older one (one value per project).
        for n, rate in enumerate([0.91, 0.71, 0.61], start=1):
            await upload(gql, project(n), rate=rate)
        newest = {m["name"]: m for m in (await community(member))["metrics"]}
        assert newest["coverage.line_rate"]["sampleSize"] == 6
        assert newest["coverage.line_rate"]["p50"] == pytest.approx((0.8 + 0.91) / 2)

        # A fifth build record brings the build metrics over k.
        await upload(gql, project(4), duration=250.0)
        builds = {m["name"]: m for m in (await community(member))["metrics"]}
        duration = builds["build.duration_seconds"]
        assert (duration["direction"], duration["p50"]) == ("LOWER_IS_BETTER", 250.0)

        assert (await community(member, kind="library"))["contributors"] == 0
        assert (await community(member, kind="web_service"))["published"] is True

        # Opting out takes the project's values out at once; every metric it was part of
        # is withheld rather than shown recomputed without it.
        gone = await gql(OPT_OUT, {"project": project(2)})
        assert gone["data"]["optOutCommunityBenchmarks"]["optedOut"] is True
        after = await community(member)
        assert (after["published"], after["contributors"], after["metrics"]) == (False, 5, [])
        assert after["explanation"].startswith("5 projects contribute")
        stored = await BenchmarkRelease.all().values_list("released", "history")
        project_2 = str((await Project.get(slug=project(2))).id)
        assert stored and all(project_2 not in inputs for released, history in stored
                              for inputs in [*released.values(),
                                             *(i for old in history.values() for i in old)])
        again = await gql(OPT_OUT, {"project": project(2)})
        assert again["data"]["optOutCommunityBenchmarks"]["optedOut"] is False
    finally:
        await reader.aclose()


async def test_a_project_compares_with_its_community_benchmark(gql: GraphQLClient):
    for n, rate in enumerate(RATES):
        await upload(gql, project(n), rate=rate)
        await upload(gql, project(n), duration=100.0 * (n + 1))
        await opt_in(gql, project(n))
    body = await gql(COMPARE_PROJECT, {"project": project(1)})
    assert "errors" not in body, body
    result = body["data"]["communityBenchmark"]["compare"]
    by_name = {m["name"]: m for m in result["metrics"]}
    assert by_name["coverage.line_rate"]["verdict"] == "BETTER"  # 0.9, the best rate
    assert by_name["coverage.line_rate"]["value"] == pytest.approx(0.9)
    faster = by_name["build.duration_seconds"]  # 200 s, of 100-500 s: below the median
    assert (faster["verdict"], faster["percentile"]) == ("BETTER", pytest.approx(25))
    middle = (await gql(COMPARE_PROJECT, {"project": project(2)}))["data"]
    assert {m["name"]: m["verdict"] for m in middle["communityBenchmark"]["compare"][
        "metrics"]}["build.duration_seconds"] == "EQUAL"
    slowest = (await gql(COMPARE_PROJECT, {"project": project(4)}))["data"]
    slow = {m["name"]: m for m in slowest["communityBenchmark"]["compare"]["metrics"]}
    assert slow["build.duration_seconds"]["verdict"] == "WORSE"
    assert slow["build.duration_seconds"]["percentile"] == pytest.approx(100)
    # Metrics the benchmark does not cover are not listed for a project.
    assert all(m["status"] != "NO_BASELINE" for m in result["metrics"])


async def test_opting_in_needs_evidence_write_and_a_known_project(app: RunningApp,
                                                                  gql: GraphQLClient):
    await upload(gql, project(0), rate=0.5)
    writer = app.client(await app.issue("sharer", "community:read", "community:write"))
    try:
        refused = await GraphQLClient(writer)(OPT_IN, {
            "project": project(0), "industry": "finance", "type": "web_service"})
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert "evidence:write" in refused["errors"][0]["message"]
    finally:
        await writer.aclose()
    unknown = await opt_in(gql, "github.com/nobody/nothing")
    assert unknown["optIn"] is None
    assert (unknown["errors"][0]["field"], unknown["errors"][0]["code"]) == (
        "project", "NOT_FOUND")
    bad = await opt_in(gql, project(0), industry="Fin Ance")
    assert (bad["errors"][0]["field"], bad["errors"][0]["code"]) == ("industry", "INVALID")
    assert (await community(gql))["contributors"] == 0  # nothing was written
    moved = await opt_in(gql, project(0), industry="finance", kind="library")
    assert moved["optIn"] == {"project": project(0), "industry": "finance",
                              "projectType": "library", "optedInBy": "test-admin"}
    assert (await opt_in(gql, project(0), industry="retail"))["optIn"]["industry"] == "retail"
    assert (await community(gql, "finance"))["contributors"] == 0
    assert (await community(gql, "retail"))["contributors"] == 1


async def test_community_benchmark_arguments_are_checked(gql: GraphQLClient):
    body = await gql(COMMUNITY, {"industry": "no such industry!", "type": None})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "industry" in body["errors"][0]["message"]


async def test_a_project_compares_with_a_shared_benchmark(gql: GraphQLClient,
                                                           client: Any):
    await upload(gql, project(0), rate=0.5)
    await upload(gql, project(0), rate=0.75)  # the newest value counts
    await upload(gql, project(0), duration=90.0)
    created = await client.post("/api/community/benchmarks/add", json={"benchmark": {
        "name": "web", "industry": "finance", "project_type": "web_service", "metrics": [
            {"name": "coverage.line_rate", "direction": "higher_is_better", "p25": 0.6,
             "p50": 0.7, "p75": 0.8, "p90": 0.9, "sample_size": 30},
            {"name": "tests.pass_rate", "direction": "higher_is_better", "p25": 0.9,
             "p50": 0.95, "p75": 0.99, "p90": 1, "sample_size": 30}]}})
    benchmark_id = created.json()["benchmark_id"]
    body = await gql('query($b: ID!, $p: String!) { compareToBenchmark(benchmark: $b, '
                     'project: $p) { metrics { name status verdict value percentile } } }',
                     {"b": benchmark_id, "p": project(0).upper()})
    assert "errors" not in body, body
    metrics = body["data"]["compareToBenchmark"]["metrics"]
    assert metrics == [
        {"name": "coverage.line_rate", "status": "COMPARED", "verdict": "BETTER",
         "value": 0.75, "percentile": pytest.approx(62.5)},
        {"name": "tests.pass_rate", "status": "NO_VALUE", "verdict": None, "value": None,
         "percentile": None},
    ]  # build metrics the benchmark does not cover are not listed
    over_rest = await client.post("/api/community/benchmarks/compare", json={
        "benchmark_id": benchmark_id, "project": project(0)})
    assert over_rest.json()["comparison"]["better"] == 1
    unknown = await client.post("/api/community/benchmarks/compare", json={
        "benchmark_id": benchmark_id, "project": "github.com/acme/none"})
    assert unknown.status_code == 404 and "github.com/acme/none" in unknown.text


async def test_the_industry_benchmark_cannot_be_differenced_down_to_a_lone_project(
        app: RunningApp, gql: GraphQLClient):
    """Industry-wide mean * n minus the published project-type cells must not give back the
    one project of an unpublished project type: it only aggregates cells that publish."""
    reader = app.client(await app.issue("reader", "community:read"))
    member = GraphQLClient(reader)
    try:
        for n, rate in enumerate(RATES):
            await upload(gql, project(n), rate=rate)
            await opt_in(gql, project(n), "finance", "web_service")
        await upload(gql, "github.com/victim/lib", rate=0.37)
        await opt_in(gql, "github.com/victim/lib", "finance", "library")
        assert (await community(member, kind="library"))["published"] is False
        whole = await community(member)
        cell = await community(member, kind="web_service")
        line = {m["name"]: m for m in whole["metrics"]}["coverage.line_rate"]
        web = {m["name"]: m for m in cell["metrics"]}["coverage.line_rate"]
        leaked = line["mean"] * line["sampleSize"] - web["mean"] * web["sampleSize"]
        assert leaked == pytest.approx(0.0, abs=1e-9)
        assert line == web
        assert whole["contributors"] == 6 and whole["withheldMetrics"] == cell["withheldMetrics"]
    finally:
        await reader.aclose()


async def test_moving_to_another_project_type_takes_the_values_out_of_the_old_one(
        gql: GraphQLClient):
    """One value per project: a project moved from web_service to library no longer counts
    in web_service (nor twice industry-wide), and web_service's line rate is withheld
    rather than shown recomputed without it."""
    for n, rate in enumerate(RATES):
        await upload(gql, project(n), rate=rate)
        await opt_in(gql, project(n), "finance", "web_service")
    assert (await community(gql, kind="web_service"))["published"] is True
    moved = await opt_in(gql, project(0), "finance", "library")
    assert moved["optIn"]["projectType"] == "library"
    cell = await community(gql, kind="web_service")
    whole = await community(gql)
    assert (cell["published"], cell["contributors"]) == (False, 4)
    assert (whole["published"], whole["contributors"], whole["metrics"]) == (False, 5, [])
