"""Solutions' evidence rules answered from a real store fed with genuine artifacts (pytest's
JUnit XML, coverage.py's XML, Bandit's SARIF, cyclonedx-py's SBOM, made in the test
session by tests/community/templates_kit.py), as of now and as of a past moment; and the
aggregation of Goals and Strategies."""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from community.templates_kit import feed, template_artifacts, upload
from tortoise import connections

from arcos.assurance.evaluation import (
    ElementStatus,
    Verdict,
    aggregate,
    evaluate_rule,
    evaluate_rules,
)
from arcos.assurance.rules import EvidenceRule, parse_rule
from arcos.evidence.models import Evidence

__all__ = ["template_artifacts"]  # the session fixture the tests below take

GREEN = "github.com/acme/green"
RED = "github.com/acme/red"
SUPPORTED, FAILING, MISSING, STALE, OPEN = (
    ElementStatus.SUPPORTED, ElementStatus.FAILING, ElementStatus.MISSING, ElementStatus.STALE,
    ElementStatus.OPEN)


def uid(global_id: str) -> uuid.UUID:
    """The uuid behind an API evidence id."""
    return uuid.UUID(base64.b64decode(global_id).decode().partition(":")[2])


def rule(**raw: Any) -> EvidenceRule:
    """A rule as a case's YAML would give it (so every rule here is one parse_rule takes)."""
    problems: list[Any] = []
    parsed = parse_rule(raw, "arcos", problems)
    assert parsed is not None, problems
    return parsed


@contextmanager
def clock_moved(app: Any, by: timedelta) -> Iterator[Callable[[], datetime]]:
    """Evidence written meanwhile is received `by` later (earlier, if negative)."""
    writer = app.app.state.writer
    real = writer.clock
    writer.clock = lambda: real() + by
    try:
        yield real
    finally:
        writer.clock = real


def now_of(app: Any) -> datetime:
    return app.app.state.writer.clock()


async def test_rules_on_genuine_artifacts(app, gql, template_artifacts):
    green = await feed(gql, template_artifacts, "green", GREEN, sbom=True)
    red = await feed(gql, template_artifacts, "red", RED, sbom=False)
    now = now_of(app)
    stored = await Evidence.get(uid=uid(green["test_results"]))

    async def verdict(case_project: str, **raw: Any) -> Verdict:
        return await evaluate_rule(rule(**raw), case_project, at=None, now=now)

    passing = await verdict(GREEN, metric="tests.pass_rate", predicate=">= 0.95")
    assert passing.status == SUPPORTED
    assert passing.evidence_ids == (uid(green["test_results"]),)
    assert "tests.pass_rate = 1" in passing.reason
    failing = await verdict(RED, metric="tests.pass_rate", predicate=">= 0.95")
    assert failing == Verdict(FAILING, (uid(red["test_results"]),),
                              "tests.pass_rate = 0.5; needs >= 0.95")
    # a rule's own project wins over the case's
    assert (await verdict(GREEN, project=RED, metric="tests.pass_rate", predicate=">= 0.95")
            ).status == FAILING

    # findings counted from open findings, as compliance counts them
    assert (await verdict(GREEN, metric="findings.high", predicate="== 0")).status == SUPPORTED
    high = await verdict(RED, metric="findings.high", predicate="== 0")
    assert high.status == FAILING and uid(red["security_scan"]) in high.evidence_ids
    assert (await verdict(RED, metric="coverage.line_rate", predicate=">= 0.5",
                          max_age_days=30)).status == SUPPORTED
    assert (await verdict(RED, metric="vulns.critical")).status == MISSING  # no scan of them

    # the newest item's data: the counts the JUnit parser recorded
    assert stored.source == "pytest"  # the tool that wrote the report
    failed_path = "data." + ".".join(_path_to(stored.data, "failed"))
    green_data = await verdict(GREEN, type="test_results", source="pytest",
                               predicate=f"{failed_path} == 0")
    assert green_data.status == SUPPORTED
    assert green_data.evidence_ids == (uid(green["test_results"]),)
    red_data = await verdict(RED, type="test_results", predicate=f"{failed_path} == 0")
    assert red_data.status == FAILING
    assert f"{failed_path} is 1 in evidence {uid(red['test_results'])}" in red_data.reason
    absent = await verdict(GREEN, type="test_results", predicate="data.no.such == 1")
    assert absent.status == FAILING and "absent" in absent.reason
    assert await verdict(GREEN, type="test_results", ref="refs/heads/other") == Verdict(
        MISSING, (), "no evidence with type test_results, ref refs/heads/other for this project")
    assert (await verdict(GREEN, type="access_review")).status == MISSING
    assert (await verdict("github.com/acme/nobody", type="test_results")).status == MISSING

    # pinned ids, with and without a predicate
    pinned = await verdict(GREEN, evidence_ids=[green["test_results"], green["sbom"]])
    assert pinned.status == SUPPORTED
    assert pinned.evidence_ids == (uid(green["test_results"]), uid(green["sbom"]))
    gone = str(uuid.uuid4())
    lost = await verdict(GREEN, evidence_ids=[green["sbom"], gone])
    assert lost.status == MISSING and gone in lost.reason
    both = await verdict(GREEN, evidence_ids=[green["test_results"], red["test_results"]],
                         predicate=f"{failed_path} == 0")
    assert both.status == FAILING and both.evidence_ids == (uid(red["test_results"]),)

    # a control: red's tests fail, so soc2 CC8.1 (changes tested) fails; green has no
    # reviews or deployments, so it is missing, which `!= failing` accepts
    control = await verdict(RED, control="soc2:CC8.1")
    assert control.status == FAILING and uid(red["test_results"]) in control.evidence_ids
    assert control.reason.startswith("soc2:CC8.1 is failing: ")
    assert (await verdict(GREEN, control="soc2:CC8.1")).status == MISSING
    assert (await verdict(GREEN, control="soc2:CC8.1", predicate="!= failing")
            ).status == SUPPORTED
    assert (await verdict(GREEN, control="pci-dss:6.3.2")).status == SUPPORTED
    assert (await verdict(GREEN, control="pci-dss:6.3.2", predicate="== failing")
            ).status == FAILING  # satisfied, but the rule wants it failing

    # forty days on, the 30-day windows have passed; the rules without one have not
    later = now + timedelta(days=40)
    for raw in ({"metric": "tests.pass_rate", "predicate": ">= 0.95", "max_age_days": 30},
                {"type": "test_results", "max_age_days": 30},
                {"evidence_ids": [green["test_results"]], "max_age_days": 30}):
        stale = await evaluate_rule(rule(**raw), GREEN, at=None, now=later)
        assert stale.status == STALE, raw
        assert "40 days old" in stale.reason or "it is 40 days" in stale.reason, stale
    assert (await evaluate_rule(rule(type="test_results"), GREEN, at=None, now=later)
            ).status == SUPPORTED
    # a failing predicate wins over staleness
    assert (await evaluate_rule(rule(metric="tests.pass_rate", predicate=">= 0.95",
                                     max_age_days=30), RED, at=None, now=later)
            ).status == FAILING


def _path_to(data: Any, key: str) -> list[str]:
    """The dotted path to the first `key` in `data` (the parser's layout, not this test's
    guess)."""
    if isinstance(data, dict):
        if key in data:
            return [key]
        for name, value in data.items():
            if (rest := _path_to(value, key)):
                return [name, *rest]
    return []


async def test_status_at_a_past_moment(app, gql, template_artifacts):
    """A project green five days ago and red now: each rule answers as the store stood."""
    with clock_moved(app, -timedelta(days=5)):
        green = await feed(gql, template_artifacts, "green", GREEN, sbom=False)
    red_report = await upload(gql, "submitTestReport", template_artifacts.read("red-junit.xml"),
                              GREEN)
    red_scan = await upload(gql, "submitSecurityScan", template_artifacts.read("red-bandit.sarif"),
                            GREEN, sourceRoot=str(template_artifacts.root / "red"))
    now = now_of(app)
    rules = [rule(metric="tests.pass_rate", predicate=">= 0.95", max_age_days=4),
             rule(type="test_results", max_age_days=4),
             rule(metric="findings.high", predicate="== 0"),
             rule(evidence_ids=[red_report["id"]])]

    current = await evaluate_rules(rules, GREEN, at=None, now=now)
    assert [v.status for v in current] == [FAILING, SUPPORTED, FAILING, SUPPORTED]
    assert current[1].evidence_ids == (uid(red_report["id"]),)
    assert uid(red_scan["id"]) in current[2].evidence_ids

    two_days_ago = await evaluate_rules(rules, GREEN, at=now - timedelta(days=2), now=now)
    assert [v.status for v in two_days_ago] == [SUPPORTED, SUPPORTED, SUPPORTED, MISSING]
    assert two_days_ago[0].evidence_ids == (uid(green["test_results"]),)
    assert two_days_ago[1].evidence_ids == (uid(green["test_results"]),)
    assert two_days_ago[2].evidence_ids == (uid(green["security_scan"]),)

    # freshness is measured at the moment asked about: the green report was 4 days old then,
    # a little more than the window
    one_day_ago = await evaluate_rules(rules, GREEN, at=now - timedelta(days=1), now=now)
    assert [v.status for v in one_day_ago] == [STALE, STALE, SUPPORTED, MISSING]
    assert "4 days old" in one_day_ago[1].reason

    before_anything = await evaluate_rules(rules, GREEN, at=now - timedelta(days=6), now=now)
    assert [v.status for v in before_anything] == [MISSING] * 4


async def test_findings_fixed_since_count_as_open_in_the_past(app, gql, template_artifacts):
    """Bandit found a high-severity call five days ago; a clean scan fixed it today. Between
    the two scans it was open, though its last sighting was five days ago."""
    with clock_moved(app, -timedelta(days=5)):
        red = await upload(gql, "submitSecurityScan",
                           template_artifacts.read("red-bandit.sarif"), GREEN,
                           sourceRoot=str(template_artifacts.root / "red"))
    clean = await upload(gql, "submitSecurityScan",
                         template_artifacts.read("green-bandit.sarif"), GREEN,
                         sourceRoot=str(template_artifacts.root / "red"))
    now = now_of(app)
    high = rule(metric="findings.high", predicate="== 0")
    assert (await evaluate_rule(high, GREEN, at=None, now=now)).status == SUPPORTED
    then = await evaluate_rule(high, GREEN, at=now - timedelta(days=1), now=now)
    assert then.status == FAILING and uid(red["id"]) in then.evidence_ids, then
    assert uid(clean["id"]) not in then.evidence_ids


async def test_reads_do_not_grow_with_the_rules(app, gql, template_artifacts):
    """Forty rules of every kind over one project read the same as four: one query for the
    projects, one per distinct evidence filter, one for pinned ids, the compliance reads."""
    green = await feed(gql, template_artifacts, "green", GREEN, sbom=True)
    now = now_of(app)
    few = [rule(metric="tests.pass_rate", predicate=">= 0.95"),
           rule(type="test_results", predicate="data.tests.failed == 0"),
           rule(evidence_ids=[green["sbom"]]), rule(control="soc2:CC8.1")]
    many = [*few * 10]
    await evaluate_rules(few, GREEN, at=None, now=now)  # the first read of a model costs more
    counts = []
    for rules in (few, many):
        with _counting_queries() as seen:
            verdicts = await evaluate_rules(rules, GREEN, at=None, now=now)
        assert len(verdicts) == len(rules)
        counts.append(len(seen))
    # projects; the control's and metric's evidence types and metric values; the filter;
    # the pinned ids
    assert counts[0] == counts[1] == 5, counts


@contextmanager
def _counting_queries() -> Iterator[list[str]]:
    """The SQL statements on evidence, metrics and findings the store's connection runs
    meanwhile (the app's background work reads the outbox and plugins at the same time)."""
    connection = connections.get("default")
    seen: list[str] = []
    originals = {name: getattr(connection, name) for name in
                 ("execute_query", "execute_query_dict")}

    def counted(name: str) -> Any:
        async def run(query: str, *args: Any, **kwargs: Any) -> Any:
            if re.search(r'FROM "?(project|evidence|quality_metric|finding)\b', query):
                seen.append(query)
            return await originals[name](query, *args, **kwargs)
        return run

    for name in originals:
        setattr(connection, name, counted(name))
    try:
        yield seen
    finally:
        for name in originals:
            delattr(connection, name)


def test_aggregation() -> None:
    """G1 ← S1 ← {G2 ← Sn1, G3 ← Sn2}; contexts carry no status."""
    kinds = {"G1": "goal", "S1": "strategy", "G2": "goal", "G3": "goal", "Sn1": "solution",
             "Sn2": "solution", "C1": "context", "A1": "assumption", "J1": "justification"}
    supported_by = {"G1": ["S1"], "S1": ["G2", "G3"], "G2": ["Sn1"], "G3": ["Sn2"]}

    def statuses(sn1: ElementStatus, sn2: ElementStatus | None,
                 undeveloped: tuple[str, ...] = ()) -> dict[str, ElementStatus]:
        verdicts = {"Sn1": Verdict(sn1, (), "")}
        if sn2 is not None:
            verdicts["Sn2"] = Verdict(sn2, (), "")
        return aggregate("G1", supported_by, kinds, undeveloped, verdicts)

    assert statuses(SUPPORTED, SUPPORTED) == {"G1": SUPPORTED, "S1": SUPPORTED, "G2": SUPPORTED,
                                              "G3": SUPPORTED, "Sn1": SUPPORTED,
                                              "Sn2": SUPPORTED}
    assert statuses(FAILING, STALE) == {"G1": FAILING, "S1": FAILING, "G2": FAILING,
                                        "G3": OPEN, "Sn1": FAILING, "Sn2": STALE}
    assert statuses(SUPPORTED, MISSING)["G1"] == OPEN
    assert statuses(SUPPORTED, None)["Sn2"] == MISSING  # a Solution with no rule
    assert statuses(SUPPORTED, SUPPORTED, ("G3",))["G1"] == OPEN
    assert statuses(FAILING, SUPPORTED, ("G3",))["G1"] == FAILING


@pytest.mark.parametrize("depth", [5000])
def test_aggregation_of_deep_and_cyclic_arguments(depth: int) -> None:
    chain = {f"G{i}": [f"G{i + 1}"] for i in range(depth)} | {f"G{depth}": ["Sn"]}
    kinds = {name: "goal" for name in chain} | {"Sn": "solution", "Away": "away_goal",
                                                 "Lone": "goal"}
    solutions = {"Sn": Verdict(SUPPORTED, (), "")}
    result = aggregate("G0", chain, kinds, (), solutions)
    assert result["G0"] == SUPPORTED and result["Lone"] == OPEN and result["Away"] == OPEN
    cyclic = {"G1": ["G2", "Sn"], "G2": ["G1"]}
    assert aggregate("G1", cyclic, {"G1": "goal", "G2": "goal", "Sn": "solution"}, (),
                     solutions) == {"G1": OPEN, "G2": OPEN, "Sn": SUPPORTED}
    away = aggregate("G1", {"G1": ["Away"]}, {"G1": "goal", "Away": "away_goal"}, (),
                     {"Away": Verdict(SUPPORTED, (), "")})
    assert away == {"G1": SUPPORTED, "Away": SUPPORTED}
