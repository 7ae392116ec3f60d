"""Which cases an event can change: only the cases whose rules name what arrived, with the
events built by the functions the writers publish them with."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

from arcos.assurance.affected import Change, RuleIndex
from arcos.assurance.rules import EvidenceRule, parse_rule
from arcos.evidence.events import evidence_event
from arcos.evidence.models import Evidence
from arcos.intake.metrics import StoredMetric, metric_event

APP = "github.com/acme/app"
LIB = "github.com/acme/lib"
PINNED = str(uuid.uuid4())


def rule(**raw: Any) -> EvidenceRule:
    problems: list[Any] = []
    parsed = parse_rule(raw, "arcos", problems)
    assert parsed is not None, problems
    return parsed


def arrived(project: str | None, type: str, source: str = "pytest", ref: str | None = None,
            uid: uuid.UUID | None = None) -> Change:
    """The Change of an evidence.added event as the writer publishes it."""
    item = SimpleNamespace(  # an Evidence row's attributes (no store is open here)
        seq=1, uid=uid or uuid.uuid4(), type=type, source=source, project_id=1,
        commit_sha=None, ref=ref, data={}, metadata={}, data_size=2, metadata_size=2,
        sha256="0" * 64, submitted_by="ci", created_at=datetime.now(UTC))
    return Change.of_evidence_event(evidence_event(cast(Evidence, item), project))


def measured(project: str, name: str) -> Change:
    """The Change of a metrics.updated event as the writer publishes it."""
    row = SimpleNamespace(project_id=1, name=name, value=1.0, timestamp=datetime.now(UTC),
                          evidence_uid=uuid.uuid4(), metadata={})
    return Change.of_metric_event(metric_event(cast(StoredMetric, row), project))


def index() -> RuleIndex:
    cases = RuleIndex()
    cases.set_case("tests", APP, {
        "Sn1": rule(type="test_results", source="pytest", ref="refs/heads/main"),
        "Sn2": rule(metric="tests.pass_rate", predicate=">= 0.95"),
        "Sn3": rule(evidence_ids=[PINNED])})
    cases.set_case("security", APP, {
        "Sn1": rule(metric="findings.critical", predicate="== 0"),
        "Sn2": rule(source="reviewbot")})
    cases.set_case("release", APP, {"Sn1": rule(control="soc2:CC8.1")})
    cases.set_case("library", LIB, {
        "Sn1": rule(type="test_results"),
        "Sn2": rule(project=APP, metric="coverage.line_rate", predicate=">= 0.8")})
    return cases


def test_evidence_events_reach_only_the_cases_that_read_them() -> None:
    cases = index()
    assert cases.affected(arrived(APP, "test_results", ref="refs/heads/main")) == {
        "tests": {"Sn1"}, "release": {"Sn1"}}  # CC8.1 checks for test_results
    assert cases.affected(arrived(APP, "test_results", ref="refs/heads/dev")) == {
        "release": {"Sn1"}}
    assert cases.affected(arrived(APP, "test_results", source="junit-bot",
                                  ref="refs/heads/main")) == {"release": {"Sn1"}}
    assert cases.affected(arrived(LIB, "test_results")) == {"library": {"Sn1"}}
    # a rule naming only a source hears every type from it
    assert cases.affected(arrived(APP, "code_review", source="reviewbot")) == {
        "security": {"Sn2"}, "release": {"Sn1"}}
    # a scan changes the open findings before any metric row says so
    assert cases.affected(arrived(APP, "security_scan", source="bandit")) == {
        "security": {"Sn1"}}
    assert cases.affected(arrived(APP, "access_review")) == {}
    assert cases.affected(arrived(None, "test_results")) == {}
    assert cases.affected(arrived("github.com/else/where", "test_results")) == {}
    assert cases.affected(arrived(LIB, "x", uid=uuid.UUID(PINNED))) == {"tests": {"Sn3"}}


def test_metric_events_reach_only_the_cases_that_read_them() -> None:
    cases = index()
    assert cases.affected(measured(APP, "tests.pass_rate")) == {
        "tests": {"Sn2"}, "release": {"Sn1"}}
    assert cases.affected(measured(APP, "coverage.line_rate")) == {
        "library": {"Sn2"}, "release": {"Sn1"}}  # the rule's own project, not the case's
    assert cases.affected(measured(LIB, "coverage.line_rate")) == {}
    assert cases.affected(measured(APP, "findings.critical")) == {"security": {"Sn1"}}
    assert cases.affected(measured(APP, "findings.total")) == {"security": {"Sn1"}}
    assert cases.affected(measured(APP, "build.duration_seconds")) == {}


def test_editing_and_removing_a_case_updates_the_index() -> None:
    cases = index()
    assert len(cases) == 4
    cases.set_case("tests", APP, {"Sn9": rule(type="sbom")})
    assert cases.affected(arrived(APP, "test_results", ref="refs/heads/main")) == {
        "release": {"Sn1"}}
    assert cases.affected(arrived(APP, "sbom", source="cyclonedx")) == {"tests": {"Sn9"}}
    assert cases.affected(arrived(APP, "x", uid=uuid.UUID(PINNED))) == {}
    cases.remove_case("release")
    cases.remove_case("no such case")
    assert cases.affected(measured(APP, "tests.pass_rate")) == {}
    assert len(cases) == 3
    for name in ("tests", "security", "library"):
        cases.remove_case(name)
    assert len(cases) == 0
    assert all(not table for table in cases._tables.values())  # nothing left behind


def test_a_lookup_does_not_visit_unrelated_cases() -> None:
    """Ten thousand cases on other projects cost an event nothing: it reads only its keys."""
    cases = index()
    for number in range(10_000):
        cases.set_case(f"other-{number}", f"github.com/other/p{number}",
                       {"Sn1": rule(type="test_results"),
                        "Sn2": rule(metric="tests.pass_rate", predicate=">= 0.9")})
    visited = list(cases._watches(arrived(APP, "test_results", ref="refs/heads/main")))
    assert {(watch.case, watch.element) for watch in visited} == {
        ("tests", "Sn1"), ("release", "Sn1")}
    assert cases.affected(measured("github.com/other/p7", "tests.pass_rate")) == {
        "other-7": {"Sn2"}}
