"""A case made from each of the eight industry templates on one project fed with genuine
artifacts (pytest's JUnit, coverage.py's XML, Bandit's SARIF, cyclonedx-py's SBOM) evaluates
to the status its default rules and that evidence explain.

The expectation is derived, not recorded: each Solution's rule (template_cases.py, the
compliance defaults) is answered from what the artifact files themselves say — a metric
rule by the value read from the file that carries the metric, an evidence-type rule by
whether that type was fed — and Goals and Strategies are aggregated by the issue's rule
(any FAILING → FAILING, else anything not SUPPORTED or no children → OPEN). The project is
fed once per module."""

from __future__ import annotations

import json
import operator
import xml.etree.ElementTree as ElementTree
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from community.templates_kit import Artifacts, feed, template_artifacts
from conftest import GraphQLClient, running_app
from test_assurance_case_status import by_id, status, uuid_of

from arcos.assurance.template_cases import case_from_industry
from arcos.community.gsn import NodeType
from arcos.community.industry_content import INDUSTRIES
from arcos.settings import Settings

__all__ = ["template_artifacts"]  # the session fixture `fed` takes

pytestmark = pytest.mark.asyncio(loop_scope="module")

PROJECT = "github.com/acme/templated"
#: The evidence type whose artifact records each metric a default rule reads (a count of
#: vulnerabilities is dated by an SBOM only when the SBOM embeds vulnerabilities).
METRIC_TYPE = {"tests.pass_rate": "test_results", "coverage.line_rate": "test_coverage",
               "findings.critical": "security_scan", "vulns.critical": "sbom"}
OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
    "==": operator.eq, "!=": operator.ne}


@dataclass(frozen=True)
class Fed:
    gql: GraphQLClient
    #: The stored evidence id of each fed evidence type.
    ids: dict[str, str]
    #: Each metric's value as the fed files state it; absent: the files do not tell it.
    metrics: dict[str, float]


def metrics_in(artifacts: Artifacts) -> dict[str, float]:
    """The values the green artifacts carry, read from the files the tools wrote."""
    suites = ElementTree.fromstring(artifacts.read("green-junit.xml")).iter("testsuite")
    tests = failed = 0
    for suite in suites:
        tests += int(suite.get("tests", 0)) - int(suite.get("skipped", 0))
        failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
    coverage = ElementTree.fromstring(artifacts.read("green-coverage.xml"))
    sarif = json.loads(artifacts.read("green-bandit.sarif"))
    critical = sum(1 for run in sarif["runs"] for result in run.get("results", [])
                   if str(result.get("properties", {}).get("issue_severity")).upper()
                   == "CRITICAL")
    found = {"tests.pass_rate": (tests - failed) / tests,
             "coverage.line_rate": float(coverage.get("line-rate")),
             "findings.critical": float(critical)}
    sbom = json.loads(artifacts.read("sbom.json"))
    if "vulnerabilities" in sbom:  # cyclonedx-py from requirements embeds none
        found["vulns.critical"] = float(sum(
            1 for vulnerability in sbom["vulnerabilities"]
            for rating in vulnerability.get("ratings", [])
            if rating.get("severity") == "critical"))
    return found


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def fed(tmp_path_factory: pytest.TempPathFactory,
              template_artifacts: Artifacts) -> AsyncIterator[Fed]:
    root = tmp_path_factory.mktemp("templates-store")
    settings = Settings(database_url=f"sqlite://{root / 'arcos.db'}",
                        plugin_signing_key_path=str(root / "plugin-signing.key"))
    async with running_app(settings) as running, running.client(running.admin_token) as http:
        gql = GraphQLClient(http)
        ids = await feed(gql, template_artifacts, "green", PROJECT, sbom=True)
        yield Fed(gql, {kind: uuid_of(uid) for kind, uid in ids.items()},
                  metrics_in(template_artifacts))


def expected_solution(rule: dict[str, Any] | None, fed: Fed) -> tuple[str, list[str]]:
    """The status and deciding evidence of a Solution with `rule` on the fed project."""
    if rule is None:
        return "MISSING", []
    if "metric" in rule:
        if rule["metric"] not in fed.metrics:
            return "MISSING", []
        op, threshold = rule["predicate"].split()
        held = OPS[op](fed.metrics[rule["metric"]], float(threshold))
        return ("SUPPORTED" if held else "FAILING"), [fed.ids[METRIC_TYPE[rule["metric"]]]]
    if rule["type"] in fed.ids:
        return "SUPPORTED", [fed.ids[rule["type"]]]
    return "MISSING", []


def expected(template: str, fed: Fed) -> dict[str, tuple[str, list[str]]]:
    """Every status-carrying element's expected status (and evidence, for Solutions)."""
    industry = next(item for item in INDUSTRIES if item.key == template)
    nodes = {node.id: node for node in case_from_industry(industry).elements}
    found: dict[str, tuple[str, list[str]]] = {}

    def settle(node_id: str) -> str:
        node = nodes[node_id]
        if node.type == NodeType.SOLUTION:
            found[node_id] = expected_solution(node.rule, fed)
        else:
            children = [settle(child) for child in node.supported_by]
            found[node_id] = ("FAILING" if "FAILING" in children else "SUPPORTED"
                              if children and set(children) == {"SUPPORTED"}
                              and not node.undeveloped else "OPEN", [])
        return found[node_id][0]

    settle("G1")
    return found


async def test_the_eight_templates_are_all_here() -> None:
    assert len(INDUSTRIES) == 8


@pytest.mark.parametrize("template", [industry.key for industry in INDUSTRIES])
async def test_template_case_status_is_explained_by_the_fed_evidence(
        template: str, fed: Fed) -> None:
    made = await fed.gql("""mutation($input: CreateCaseFromTemplateInput!) {
        createCaseFromTemplate(input: $input) { case { caseId } errors { message } } }""",
                         {"input": {"template": template, "project": PROJECT}})
    payload = made["data"]["createCaseFromTemplate"]
    assert payload["errors"] == [], payload
    found = await status(fed.gql, payload["case"]["caseId"])
    want = expected(template, fed)
    shown = by_id(found)
    assert set(shown) == set(want)
    for element_id, (element_status, evidence) in want.items():
        got = shown[element_id]
        assert (got["status"], got["evidenceIds"] if got["kind"] == "SOLUTION" else []) == (
            element_status, evidence), (element_id, got)
    assert found["status"] == want["G1"][0]
    assert set(found["openItems"]) >= {e for e, (s, _) in want.items() if s != "SUPPORTED"
                                       and shown[e]["kind"] == "SOLUTION"}
