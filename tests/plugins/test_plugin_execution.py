"""Executing plugins through executePlugin: what reaches the sandbox, what the host writes,
and what it refuses before any fork."""

from __future__ import annotations

from conftest import GraphQLClient, RunningApp
from plugin_kit import (
    ENABLE,
    FAILING_CODE,
    METRIC_CODE,
    REVOKE,
    execute,
    node_key,
    register,
)

from arcos.metrics import METRICS
from arcos.plugins.host import HOST, PluginHost
from arcos.plugins.models import PluginVersion


def host(app: RunningApp) -> PluginHost:
    return app.app.state.services.domain_services[HOST]


async def plugin_evidence(gql: GraphQLClient) -> list[dict]:
    body = await gql('{ evidenceConnection(filter: {source: "plugin:acme.coverage_gate@1.0.0"})'
                     " { nodes { type source data metadata } } }")
    return body["data"]["evidenceConnection"]["nodes"]


async def test_a_collector_writes_its_drafts_as_plugin_evidence(gql: GraphQLClient):
    await register(gql)
    executions = ("arcos_plugin_executions_total", {"outcome": "succeeded"})
    counted = METRICS.get_sample_value(*executions) or 0.0
    body = await execute(gql, "acme.coverage_gate", input={"n": 3}, project="acme/app")
    assert METRICS.get_sample_value(*executions) == counted + 1  # /metrics counts it
    payload = body["data"]["executePlugin"]
    assert payload["errors"] == [] and payload["warnings"] == []
    execution = payload["execution"]
    assert execution["status"] == "SUCCEEDED" and execution["caller"] == "test-admin"
    assert payload["evidence"][0]["source"] == "plugin:acme.coverage_gate@1.0.0"
    assert payload["evidence"][0]["project"] == {"slug": "acme/app"}
    stored = await plugin_evidence(gql)
    assert [item["data"] for item in stored] == [{"seen": 3}]
    provenance = stored[0]["metadata"]["plugin"]
    assert provenance["version"] == "1.0.0"
    assert provenance["execution"] == node_key(execution["id"])


async def test_without_evidence_write_the_drafts_write_nothing(gql: GraphQLClient):
    await register(gql, permissions=())
    payload = (await execute(gql, "acme.coverage_gate"))["data"]["executePlugin"]
    assert payload["execution"]["status"] == "SUCCEEDED"
    assert payload["evidence"] == []
    assert "evidence.write" in payload["warnings"][0]
    assert await plugin_evidence(gql) == []


async def test_a_caller_without_evidence_write_cannot_make_a_plugin_write(
    app: RunningApp, gql: GraphQLClient
):
    await register(gql)
    token = await app.issue("runner", "plugins:execute")
    async with app.client(token) as http:
        payload = (await execute(GraphQLClient(http), "acme.coverage_gate"))["data"][
            "executePlugin"]
    assert payload["execution"]["status"] == "SUCCEEDED"
    assert payload["evidence"] == [] and "evidence:write" in payload["warnings"][0]
    assert await plugin_evidence(gql) == []


async def test_a_revoked_version_is_refused_before_any_fork(app: RunningApp, gql: GraphQLClient):
    await register(gql)
    revoked = await gql(REVOKE, {"input": {"plugin": "acme.coverage_gate"}})
    assert revoked["data"]["revokePlugin"]["versions"][0]["state"] == "REVOKED"
    forks = host(app).sandbox_calls
    payload = (await execute(gql, "acme.coverage_gate", version="1.0.0"))["data"][
        "executePlugin"]
    assert payload["execution"] is None
    assert "revoked" in payload["errors"][0]["message"]
    assert host(app).sandbox_calls == forks


async def test_a_tampered_version_is_refused_before_any_fork(
    app: RunningApp, gql: GraphQLClient, caplog
):
    await register(gql)
    await PluginVersion.filter(plugin_id="acme.coverage_gate").update(
        code="def collect():\n    return {'evidence': []}\n")
    forks = host(app).sandbox_calls
    payload = (await execute(gql, "acme.coverage_gate"))["data"]["executePlugin"]
    assert payload["execution"] is None
    assert "integrity check" in payload["errors"][0]["message"]
    assert host(app).sandbox_calls == forks
    assert "refused before execution" in caplog.text


async def test_a_manifest_widened_in_the_database_is_refused(app: RunningApp, gql: GraphQLClient):
    await register(gql, permissions=())
    row = await PluginVersion.get(plugin_id="acme.coverage_gate")
    widened = {**row.manifest, "permissions": ["evidence.write"]}
    await PluginVersion.filter(id=row.id).update(
        manifest=widened, approved_permissions=["evidence.write"])
    forks = host(app).sandbox_calls
    payload = (await execute(gql, "acme.coverage_gate"))["data"]["executePlugin"]
    assert "signature" in payload["errors"][0]["message"]
    assert host(app).sandbox_calls == forks


async def test_failures_in_a_row_disable_the_version_and_say_so(
    app: RunningApp, gql: GraphQLClient
):
    await register(gql, code=FAILING_CODE, entry_point="run", permissions=())
    limit = app.app.state.settings.plugin_max_consecutive_failures
    for _ in range(limit):
        payload = (await execute(gql, "acme.coverage_gate"))["data"]["executePlugin"]
        assert payload["execution"]["status"] == "FAILED"
    assert "now disabled" in payload["execution"]["error"]
    forks = host(app).sandbox_calls
    refused = (await execute(gql, "acme.coverage_gate"))["data"]["executePlugin"]
    assert "disabled automatically" in refused["errors"][0]["message"]
    assert host(app).sandbox_calls == forks
    enabled = await gql(ENABLE, {"input": {"plugin": "acme.coverage_gate", "enabled": True}})
    assert enabled["data"]["setPluginEnabled"]["versions"][0]["consecutiveFailures"] == 0


async def test_metric_values_join_the_project_series(gql: GraphQLClient):
    await register(gql, code=METRIC_CODE, kind="metric", entry_point="measure",
                   permissions=("metrics.write",))
    payload = (await execute(gql, "acme.coverage_gate", project="acme/app"))["data"][
        "executePlugin"]
    assert payload["metrics"] == [{"name": "plugin.score", "value": 0.75}]
    series = await gql('{ qualityMetrics(project: "acme/app", names: ["plugin.score"]) '
                       "{ value evidence { source } } }")
    assert series["data"]["qualityMetrics"] == [
        {"value": 0.75, "evidence": {"source": "plugin:acme.coverage_gate@1.0.0"}}]


async def test_executions_are_listed_and_counted(gql: GraphQLClient):
    await register(gql, permissions=())
    await execute(gql, "acme.coverage_gate")
    listed = await gql('{ pluginExecutions(plugin: "acme.coverage_gate") '
                       "{ nodes { status version } } }")
    assert listed["data"]["pluginExecutions"]["nodes"] == [
        {"status": "SUCCEEDED", "version": "1.0.0"}]
    stats = (await gql("{ pluginStats { executions failures p50DurationMs "
                       "topPlugins { key count } pluginsByType { key count } } }"))["data"][
        "pluginStats"]
    assert stats["executions"] == 1 and stats["failures"] == 0
    assert stats["topPlugins"] == [{"key": "acme.coverage_gate", "count": 1}]
    assert stats["pluginsByType"] == [{"key": "collector", "count": 1}]


async def test_runs_never_started_are_neither_failures_nor_durations(gql: GraphQLClient):
    """NOT_RUN rows (the host never started them: trigger queue full, sandbox down) would
    otherwise count as the plugin's failures and pull the percentiles to 0 ms."""
    from datetime import UTC, datetime

    from arcos.plugins.models import ExecutionStatus, ExecutionTrigger, PluginExecution

    await register(gql, permissions=())
    ran = (await execute(gql, "acme.coverage_gate"))["data"]["executePlugin"]["execution"]
    for _ in range(3):  # as record_not_run stores them: no duration
        await PluginExecution.create(
            plugin_id="acme.coverage_gate", version="1.0.0", kind="collector",
            status=ExecutionStatus.NOT_RUN, trigger=ExecutionTrigger.EVIDENCE_ADDED,
            error="the trigger queue (64) was full", caller="plugin:acme.coverage_gate@1.0.0",
            created_at=datetime.now(UTC))
    stats = (await gql("{ pluginStats { executions failures p50DurationMs p95DurationMs } }"))[
        "data"]["pluginStats"]
    assert stats == {"executions": 4, "failures": 0, "p50DurationMs": ran["durationMs"],
                     "p95DurationMs": ran["durationMs"]}


async def test_another_callers_result_needs_evidence_read(app: RunningApp, gql: GraphQLClient):
    await register(gql, permissions=())
    await execute(gql, "acme.coverage_gate", input={"n": 1})
    token = await app.issue("catalogue-reader", "plugins:read")
    async with app.client(token) as http:
        reader = GraphQLClient(http)
        listed = await reader("{ pluginExecutions { nodes { status } } }")
        assert listed["data"]["pluginExecutions"]["nodes"] == [{"status": "SUCCEEDED"}]
        hidden = await reader("{ pluginExecutions { nodes { result } } }")
    assert hidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "evidence:read" in hidden["errors"][0]["message"]
    mine = await gql("{ pluginExecutions { nodes { result } } }")
    assert mine["data"]["pluginExecutions"]["nodes"][0]["result"] == {
        "evidence": [{"type": "coverage_gate", "data": {"seen": 1}}]}


async def test_listed_results_count_toward_the_response_bound(settings):
    from conftest import running_app

    small = settings.replace(max_evidence_bytes=1024, max_response_bytes=4096)
    async with running_app(small) as app, app.client(app.admin_token) as http:
        gql = GraphQLClient(http)
        await register(gql, code="def run():\n    return [{'type': 'blob', 'data': "
                                 "{'x': 'x' * 2500}}]\n", entry_point="run", permissions=())
        for _ in range(2):  # each result fits the bound, both together do not
            ran = (await execute(gql, "acme.coverage_gate"))["data"]["executePlugin"]
            assert len(ran["execution"]["result"][0]["data"]["x"]) == 2500, ran
        statuses = await gql("{ pluginExecutions { nodes { status } } }")
        assert len(statuses["data"]["pluginExecutions"]["nodes"]) == 2
        both = await gql("{ pluginExecutions { nodes { result } } }")
    assert both["errors"][0]["extensions"]["code"] == "RESPONSE_TOO_LARGE"


QUOTING_CODE = """
def collect(data):
    raise ValueError("read: " + str(data["evidence"][0]["data"]))
"""


async def test_another_callers_error_needs_evidence_read(app: RunningApp, gql: GraphQLClient):
    """A plugin's exception message can quote the evidence it read: the error is guarded
    like the result, in listings and in the finished-execution subscription."""
    import asyncio

    from arcos.auth.transport import caller_from_authorization
    from arcos.graphql.context import ArcosContext

    submitted = await gql('mutation { submitEvidence(input: {type: "secret_note", source: "ci", '
                          'project: "acme/app", data: {pw: "hunter2"}}) { errors { message } } }')
    assert submitted["data"]["submitEvidence"]["errors"] == []
    await register(gql, code=QUOTING_CODE, permissions=("evidence.read",))
    token = await app.issue("catalogue-reader", "plugins:read")
    reader = ArcosContext.of(app.app.state.services,
                             await caller_from_authorization(f"Bearer {token}", False))
    stream = await app.app.state.schema.subscribe(
        "subscription { pluginExecutionFinished { status error } }", context_value=reader)
    first = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.05)  # subscribed before the execution commits
    ran = await execute(gql, "acme.coverage_gate", evidence={"type": "secret_note"})
    assert "hunter2" in ran["data"]["executePlugin"]["execution"]["error"]  # its own caller
    published = await asyncio.wait_for(first, 10)
    await stream.aclose()
    assert published.data == {"pluginExecutionFinished": {"status": "FAILED", "error": None}}
    assert "evidence:read" in published.errors[0].message
    async with app.client(token) as http:
        listed = await GraphQLClient(http)("{ pluginExecutions { nodes { status error } } }")
    assert "hunter2" not in str(listed)
    assert listed["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    mine = await gql("{ pluginExecutions { nodes { error } } }")
    assert "hunter2" in mine["data"]["pluginExecutions"]["nodes"][0]["error"]
