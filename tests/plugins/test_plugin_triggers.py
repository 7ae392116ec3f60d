"""Plugins triggered by new evidence run after the commit, in the background, and record
what happened; the triggering write never waits for them."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from conftest import GraphQLClient, RunningApp
from plugin_kit import FAILING_CODE, register

from arcos.evidence.models import Evidence

TRIGGERED_CODE = """
def collect(data):
    seen = [item["data"] for item in data.get("evidence", [])]
    return [{"type": "build_review", "data": {"type": data["type"], "seen": seen}}]
"""

SUBMIT = """
mutation($type: String!, $project: String = "acme/app") {
  submitEvidence(input: {type: $type, source: "ci", project: $project, data: {ok: true}}) {
    errors { code }
  }
}"""

EXECUTIONS = '{ pluginExecutions(plugin: "acme.coverage_gate") { nodes { status trigger error caller project } } }'


async def executions_once_settled(gql: GraphQLClient, count: int) -> list[dict]:
    """The plugin's executions, once `count` exist (generous outage bound: 10 s)."""
    for _ in range(200):
        nodes = (await gql(EXECUTIONS))["data"]["pluginExecutions"]["nodes"]
        if len(nodes) >= count:
            return nodes
        await asyncio.sleep(0.05)
    raise AssertionError(f"expected {count} executions, have {nodes}")


async def test_new_evidence_of_the_trigger_project_runs_the_plugin(gql: GraphQLClient):
    await register(gql, code=TRIGGERED_CODE,
                   permissions=("evidence.read", "evidence.write"),
                   triggers=[{"event": "evidence.added", "project": "acme/app"}])
    await gql(SUBMIT, {"type": "build", "project": "other/app"})  # not its project: no run
    await gql(SUBMIT, {"type": "build"})
    nodes = await executions_once_settled(gql, 1)
    assert nodes == [{"status": "SUCCEEDED", "trigger": "EVIDENCE_ADDED", "error": None,
                      "caller": "plugin:acme.coverage_gate@1.0.0", "project": "acme/app"}]
    written = await gql('{ evidenceConnection(filter: {type: "build_review"}) '
                        "{ nodes { source data } } }")
    assert written["data"]["evidenceConnection"]["nodes"] == [{
        "source": "plugin:acme.coverage_gate@1.0.0",
        "data": {"type": "build", "seen": [{"ok": True}]},
    }]
    # What the plugin wrote (to acme/app, so its trigger would match) triggered nothing
    # more: plugin evidence never triggers plugins.
    await asyncio.sleep(0.6)
    assert len((await gql(EXECUTIONS))["data"]["pluginExecutions"]["nodes"]) == 1


async def test_a_triggered_run_works_under_the_id_of_the_request_that_wrote_its_evidence(
    gql: GraphQLClient
):
    """The trigger follows the outbox, so the id comes from there: the run's own commits
    (its execution record, the evidence it writes) carry the triggering request's id."""
    from arcos.plugins.events import EXECUTION_FINISHED
    from arcos.store import outbox

    await register(gql, code=TRIGGERED_CODE, permissions=("evidence.read", "evidence.write"),
                   triggers=[{"event": "evidence.added", "type": "build"}])
    gql.headers = {"X-Request-ID": "trace-trigger"}
    await gql(SUBMIT, {"type": "build"})
    await executions_once_settled(gql, 1)
    [finished] = await outbox.read_after(EXECUTION_FINISHED, 0, 10)
    assert finished.request_id == "trace-trigger"
    assert [event.request_id for event in await outbox.read_after("evidence.added", 0, 10)] \
        == ["trace-trigger", "trace-trigger"]  # the build, then the plugin's build_review


async def test_a_failing_triggered_plugin_is_recorded_and_the_write_stands(
    app: RunningApp, gql: GraphQLClient
):
    await register(gql, code=FAILING_CODE, entry_point="run", permissions=(),
                   triggers=[{"event": "evidence.added"}])
    answer = await gql(SUBMIT, {"type": "build"})
    assert answer["data"]["submitEvidence"]["errors"] == []
    nodes = await executions_once_settled(gql, 1)
    assert nodes[0]["status"] == "FAILED" and "division" in nodes[0]["error"]
    stored = await gql('{ evidenceConnection(filter: {type: "build"}) { totalCount } }')
    assert stored["data"]["evidenceConnection"]["totalCount"] == 1


async def test_a_page_that_fails_does_not_rerun_the_pages_before_it(
    app: RunningApp, gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch
):
    """The runner's position advances page by page: when dispatching one page raises, the
    next read resumes at that page, not at the start of the batch."""
    from arcos.plugins import triggers
    from arcos.plugins.host import HOST
    from arcos.store import outbox

    # A triggered plugin exists (else the runner reads no evidence), whose filter matches
    # none of this test's items, so the app's own runner queues nothing.
    await register(gql, code=TRIGGERED_CODE, permissions=("evidence.read",),
                   triggers=[{"event": "evidence.added", "type": "never-submitted"}])
    runner = triggers.TriggerRunner(app.app.state.services.domain_services[HOST])
    runner.follower.position = await outbox.latest_position()
    for evidence_type in ("first", "second", "third"):
        await gql(SUBMIT, {"type": evidence_type})
    runner.follower.page = 1
    dispatched: list[str] = []

    async def dispatch(items: Sequence[tuple[Evidence, str | None]]) -> None:
        dispatched.extend(item.type for item, _ in items)
        if dispatched == ["first", "second"]:
            raise ConnectionError("the store went away mid-batch")

    monkeypatch.setattr(runner, "_dispatch", dispatch)
    with pytest.raises(ConnectionError):
        await runner.follower.read_new()
    await runner.follower.read_new()
    assert dispatched == ["first", "second", "second", "third"]


async def test_without_a_triggered_plugin_new_evidence_is_not_read(
    app: RunningApp, gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch
):
    """Every server follows the outbox; one with no triggered plugin only moves past it,
    without reading (decoding) the events; a trigger added later sees what commits after."""
    from arcos.plugins import triggers
    from arcos.plugins.host import HOST
    from arcos.store import outbox

    host = app.app.state.services.domain_services[HOST]
    await host.background.close()  # the app's own runner reads the outbox too
    runner = triggers.TriggerRunner(host)
    runner.follower.position = await outbox.latest_position()
    await gql(SUBMIT, {"type": "build"})
    dispatched: list[str] = []
    reads: list[int] = []

    async def dispatch(items: Sequence[tuple[Evidence, str | None]]) -> None:
        dispatched.extend(item.type for item, _ in items)

    read_after = outbox.read_after

    async def counted(topic: str, position: int, page: int) -> list[outbox.StoredEvent]:
        if topic == runner.follower.topic:  # (the principal cache follows another)
            reads.append(position)
        return await read_after(topic, position, page)

    monkeypatch.setattr(runner, "_dispatch", dispatch)
    monkeypatch.setattr(outbox, "read_after", counted)
    await runner.follower.read_new()
    assert dispatched == [] and reads == []
    skipped_to = await outbox.latest_position()
    assert runner.follower.position == skipped_to
    # A plugin whose trigger is added later gets the evidence committed after that.
    await register(gql, code=TRIGGERED_CODE, permissions=("evidence.read",),
                   triggers=[{"event": "evidence.added", "type": "never-submitted"}])
    await gql(SUBMIT, {"type": "after-the-trigger"})
    await runner.follower.read_new()
    assert dispatched == ["after-the-trigger"] and reads[0] == skipped_to
