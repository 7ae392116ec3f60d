"""Subscribers of one case share one evaluation per event (arcos/assurance/case_watchers.py).

Two subscribers of a case — other principals, other documents, so no cohort of
arcos/graphql/cohorts.py joins them — over real websockets to a server in this process (so
the watcher's evaluations can be counted) both see a failing report flip the Solution,
while each event the rule index lets through was answered by one evaluation, not one per
subscriber, over one set of broker subscriptions."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from community.templates_kit import Artifacts, template_artifacts, upload
from test_subscription_cohorts import serving
from ws_client import TIMEOUT, TRANSPORT_WS, Api, ws_connect

from arcos.assurance import case_watchers
from arcos.assurance.affected import Change, RuleIndex
from arcos.assurance.case_watchers import CaseWatcher, Member
from arcos.settings import Settings

__all__ = ["template_artifacts"]  # the session fixture the test takes

pytestmark = pytest.mark.server

PROJECT = "github.com/acme/watched"
FIRST = """subscription($id: String!) { assuranceCaseUpdated(id: $id) {
  status changed { id status } } }"""
SECOND = """subscription($id: String!) { assuranceCaseUpdated(id: $id) {
  caseId changed { id status evidenceIds } openItems } }"""


class Counted:
    """The watchers' evaluations, the events their rule indexes let through, the members."""

    def __init__(self) -> None:
        self.evaluations = 0
        self.let_through: list[Change] = []
        self.members = 0


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counted]:
    found = Counted()
    evaluate, affected, member = CaseWatcher.evaluate, RuleIndex.affected, Member.__init__

    async def counted_evaluate(self: CaseWatcher, *args: Any) -> Any:
        found.evaluations += 1
        return await evaluate(self, *args)

    def counted_affected(self: RuleIndex, change: Change) -> Any:
        cases = affected(self, change)
        if cases:
            found.let_through.append(change)
        return cases

    def counted_member(self: Member, *args: Any) -> None:
        member(self, *args)
        found.members += 1

    monkeypatch.setattr(CaseWatcher, "evaluate", counted_evaluate)
    monkeypatch.setattr(RuleIndex, "affected", counted_affected)
    monkeypatch.setattr(case_watchers.Member, "__init__", counted_member)
    yield found


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    async with serving(settings) as running:
        yield running


async def members_joined(counted: Counted, expected: int) -> None:
    """Wait until `expected` subscribers joined a watcher (subscribing is asynchronous on
    the server), or fail."""
    deadline = time.monotonic() + TIMEOUT
    while counted.members < expected:
        assert time.monotonic() < deadline, f"{counted.members} members joined"
        await asyncio.sleep(0.02)


async def test_two_subscribers_of_a_case_share_one_evaluation_per_event(
        api: Api, counted: Counted, template_artifacts: Artifacts) -> None:
    made = await api.graphql("""mutation($input: CreateCaseFromTemplateInput!) {
        createCaseFromTemplate(input: $input) { case { caseId } } }""",
                             {"input": {"template": "automotive", "project": PROJECT}})
    case_id = made["data"]["createCaseFromTemplate"]["case"]["caseId"]
    tokens = [await api.issue_token(name, "evidence:read") for name in ("board", "auditor")]
    async with ws_connect(api.ws_url, TRANSPORT_WS, token=tokens[0]) as first, \
            ws_connect(api.ws_url, TRANSPORT_WS, token=tokens[1]) as second:
        await first.subscribe("a", FIRST, {"id": case_id})
        await second.subscribe("b", SECOND, {"id": case_id})
        await members_joined(counted, 2)
        # One project's evidence and metric channels and the case's edit channel.
        await api.wait_for_subscriptions(3)
        await upload(api.graphql, "submitTestReport", template_artifacts.read("red-junit.xml"),
                     PROJECT)
        seen = []
        for client, operation in ((first, "a"), (second, "b")):
            while True:  # the report's evidence and metric events may each send one
                payload = await client.next_payload(operation)
                assert "errors" not in payload, payload
                changed = {e["id"]: e["status"] for e in
                           payload["data"]["assuranceCaseUpdated"]["changed"]}
                if "Sn1.TR" in changed:
                    break
            seen.append(changed)
    assert [changed["Sn1.TR"] for changed in seen] == ["FAILING", "FAILING"]
    assert all(changed["G1"] == "FAILING" for changed in seen)
    # The report's tests.pass_rate event was let through by the case's index and evaluated
    # once, not once per subscriber (its evidence event cannot change the metric rule).
    assert max(Counter(counted.let_through).values()) == 1, counted.let_through
    assert counted.evaluations == len(set(counted.let_through)) == 1


def edited_case(project: str, extra_project: str | None) -> dict[str, Any]:
    """A small case: G1 supported by Sn1 (a test report of `project`) and, when
    `extra_project` is given, by Sn2 (a test report of that other project)."""
    solutions = [("Sn1", project)] + ([("Sn2", extra_project)] if extra_project else [])
    return {"title": "Release", "elements": [
        {"id": "G1", "type": "goal", "text": "The release is tested",
         "supportedBy": [name for name, _ in solutions]},
        *({"id": name, "type": "solution", "text": f"Tests of {slug}",
           "arcos": {"project": slug, "type": "test_results"}} for name, slug in solutions),
    ]}


async def test_an_edit_is_pushed_and_its_new_projects_are_heard(
        api: Api, counted: Counted, template_artifacts: Artifacts) -> None:
    """An edit whose new Solution reads another project is pushed at once, and that
    project's evidence reaches the subscriber (the watcher resubscribes)."""
    other = "github.com/acme/other"
    made = await api.graphql("""mutation($input: CreateAssuranceCaseInput!) {
        createAssuranceCase(input: $input) { case { caseId } errors { message } } }""",
                             {"input": {"project": PROJECT, "json": edited_case(PROJECT, None)}})
    case_id = made["data"]["createAssuranceCase"]["case"]["caseId"]
    async with ws_connect(api.ws_url, TRANSPORT_WS, token=api.token) as client:
        await client.subscribe("a", FIRST, {"id": case_id})
        await members_joined(counted, 1)
        await api.wait_for_subscriptions(3)
        edited = await api.graphql("""mutation($input: UpdateAssuranceCaseInput!) {
            updateAssuranceCase(input: $input) { errors { message } } }""",
                                   {"input": {"id": case_id, "json": edited_case(PROJECT, other)}})
        assert edited["data"]["updateAssuranceCase"]["errors"] == []
        payload = await client.next_payload("a")
        assert "errors" not in payload, payload
        changed = {e["id"]: e["status"] for e in payload["data"]["assuranceCaseUpdated"]["changed"]}
        assert changed == {"Sn2": "MISSING"}, changed
        await api.wait_for_subscriptions(5)  # the other project's two channels too
        await upload(api.graphql, "submitTestReport", template_artifacts.read("red-junit.xml"),
                     other)
        payload = await client.next_payload("a")
        changed = {e["id"]: e["status"] for e in payload["data"]["assuranceCaseUpdated"]["changed"]}
        assert changed.get("Sn2") == "SUPPORTED", changed  # a report exists: no predicate

