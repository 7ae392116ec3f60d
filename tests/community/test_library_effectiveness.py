"""A pattern's effectiveness, measured on metric rows intake wrote from genuine coverage.py
reports: a project's line rate before it adopted the pattern, and after."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from library_kit import PATTERNS, Community, community, pattern_input, share
from test_batched_reads import statements
from test_benchmarks_community import upload

PROJECT = "github.com/acme/app"
IDLE = "github.com/acme/idle"
MODULE = '''
def add(a, b):
    return a + b


def sign(x):
    if x > 0:
        return 1
    if x < 0:
        return -1
    return 0


def clamp(x, low, high):
    if x < low:
        return low
    if x > high:
        return high
    return x
'''
#: Two runs of the same code: one exercising a little of it, one all of it.
RUNS = {
    "before": "import sample\nsample.add(1, 2)\n",
    "after": "import sample\nsample.add(1, 2)\nfor x in (-1, 0, 1):\n    sample.sign(x)\n"
             "    sample.clamp(x, 0, 0)\nsample.clamp(5, 0, 3)\nsample.clamp(-5, 0, 3)\n",
}
USE = """mutation($id: String!, $project: String!) { recordPatternUse(id: $id,
  project: $project) { project adoptedAt errors { field message code } } }"""
COVERAGE = """mutation($content: String!, $project: String!) { submitCoverageReport(input: {
  content: $content, project: $project}) { metrics { name value } errors { message } } }"""
EFFECTIVENESS = """query($id: ID!) { node(id: $id) { ... on QualityPattern { usageCount
  effectiveness { project adoptedAt metrics { metric before beforeAt after afterAt change } }
} } }"""


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Cobertura XML written by coverage.py itself for each run."""
    found = {}
    for name, script in RUNS.items():
        work = tmp_path_factory.mktemp(f"coverage-{name}")
        (work / "sample.py").write_text(MODULE)
        (work / "run.py").write_text(script)
        for command in (["run", "--include=sample.py", "run.py"], ["xml", "-o", "coverage.xml"]):
            subprocess.run([sys.executable, "-m", "coverage", *command], cwd=work, check=True,
                           capture_output=True, timeout=120)
        found[name] = (work / "coverage.xml").read_text()
    return found


def line_rate(report: str) -> float:
    return float(re.search(r'<coverage[^>]* line-rate="([0-9.]+)"', report).group(1))


@pytest.fixture
async def c(settings) -> Community:
    async with community(settings) as running:
        yield running


async def _upload(c: Community, report: str, project: str) -> None:
    payload = (await c.member.data(COVERAGE, {"content": report, "project": project}))
    assert payload["submitCoverageReport"]["errors"] == []


async def test_change_of_each_targeted_metric_since_adoption(
    c: Community, reports: dict[str, str]
) -> None:
    before, after = line_rate(reports["before"]), line_rate(reports["after"])
    assert before < after
    pattern = await share(c.owner, **pattern_input("Cover the branches", pattern={
        "metrics": ["coverage.line_rate", "tests.pass_rate"]}))
    await _upload(c, reports["before"], PROJECT)
    adopted = (await c.member.data(USE, {"id": pattern["id"], "project": PROJECT.upper()}))
    assert adopted["recordPatternUse"]["errors"] == []
    assert adopted["recordPatternUse"]["project"] == PROJECT
    await _upload(c, reports["after"], PROJECT)
    await c.member.data(USE, {"id": pattern["id"], "project": IDLE})
    again = (await c.admin.data(USE, {"id": pattern["id"], "project": PROJECT}))
    assert again["recordPatternUse"]["adoptedAt"] == adopted["recordPatternUse"]["adoptedAt"]

    node = (await c.member.data(EFFECTIVENESS, {"id": pattern["id"]}))["node"]
    assert node["usageCount"] == 2
    by_project = {a["project"]: a for a in node["effectiveness"]}
    changes = {m["metric"]: m for m in by_project[PROJECT]["metrics"]}
    coverage = changes["coverage.line_rate"]
    assert coverage["before"] == pytest.approx(before, abs=5e-5)
    assert coverage["after"] == pytest.approx(after, abs=5e-5)
    assert coverage["change"] == pytest.approx(after - before, abs=1e-4)
    assert coverage["beforeAt"] <= by_project[PROJECT]["adoptedAt"] < coverage["afterAt"]
    # No value of a metric, or no metrics of a project at all: nulls, not guesses.
    assert changes["tests.pass_rate"] == {"metric": "tests.pass_rate", "before": None,
                                          "beforeAt": None, "after": None, "afterAt": None,
                                          "change": None}
    assert [m["change"] for m in by_project[IDLE]["metrics"]] == [None, None]


async def test_no_value_since_adoption_is_a_null_change(
    c: Community, reports: dict[str, str]
) -> None:
    pattern = await share(c.owner, **pattern_input("Coverage", pattern={
        "metrics": ["coverage.line_rate"]}))
    await _upload(c, reports["after"], PROJECT)
    await c.member.data(USE, {"id": pattern["id"], "project": PROJECT})
    node = (await c.member.data(EFFECTIVENESS, {"id": pattern["id"]}))["node"]
    change = node["effectiveness"][0]["metrics"][0]
    assert change["before"] is not None and change["after"] is None
    assert change["change"] is None


async def test_effectiveness_needs_evidence_read_and_uses_need_a_slug(
    c: Community, reports: dict[str, str]
) -> None:
    pattern = await share(c.owner, **pattern_input("Coverage"))
    token = await c.app.issue("reader", "community:read")
    async with c.app.client(token) as http:
        response = await http.post("/graphql", json={"query": EFFECTIVENESS,
                                                      "variables": {"id": pattern["id"]}})
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    bad = await c.member.data(USE, {"id": pattern["id"], "project": "not a slug!"})
    assert bad["recordPatternUse"]["errors"][0]["field"] == "project"
    listed = (await c.member.data(PATTERNS, {"first": 5}))["patterns"]["nodes"][0]
    assert listed["usageCount"] == 0


async def test_recording_a_use_needs_evidence_write(c: Community) -> None:
    """Anyone with community:write could otherwise skew any project's effectiveness."""
    pattern = await share(c.owner, **pattern_input("Coverage"))
    token = await c.app.issue("outsider", "community:read", "community:write")
    async with c.app.client(token) as http:
        response = await http.post("/graphql", json={"query": USE, "variables": {
            "id": pattern["id"], "project": PROJECT}})
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    assert "evidence:write" in body["errors"][0]["message"]
    listed = (await c.member.data(PATTERNS, {"first": 5}))["patterns"]["nodes"][0]
    assert listed["usageCount"] == 0
    allowed = await c.member.data(USE, {"id": pattern["id"], "project": PROJECT})
    assert allowed["recordPatternUse"]["errors"] == []


PAGE_EFFECTIVENESS = """query { patterns(first: 20) { nodes { name effectiveness(first: 5) {
  project metrics { metric before after change } } } } }"""


async def test_a_page_of_patterns_reads_adoptions_and_metrics_in_a_fixed_number_of_queries(
    c: Community,
) -> None:
    async def adopted_page(patterns: int) -> tuple[list[str], list[dict[str, object]]]:
        for n in range(patterns):
            shared = await share(c.owner, **pattern_input(f"Gate {patterns}-{n}"))
            for project in (PROJECT, IDLE):
                used = await c.member.data(USE, {"id": shared["id"], "project": project})
                assert used["recordPatternUse"]["errors"] == []
        await upload(c.member.gql, PROJECT, rate=0.9)
        with statements() as seen:
            nodes = (await c.member.data(PAGE_EFFECTIVENESS))["patterns"]["nodes"]
        reads = [sql for sql in seen if "quality_metric" in sql or "pattern_use" in sql]
        return reads, nodes

    few, nodes = await adopted_page(2)
    many, more_nodes = await adopted_page(6)
    assert len(more_nodes) == 8 and all(len(n["effectiveness"]) == 2 for n in more_nodes)
    app_row = {a["project"]: a for a in more_nodes[0]["effectiveness"]}[PROJECT]
    assert app_row["metrics"][0]["after"] == pytest.approx(0.9)
    assert nodes
    assert len(many) == len(few) <= 5, many
