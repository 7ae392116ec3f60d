"""`pluginPanels`: the latest panel of each visualization plugin for a project, as the
dashboard's project page reads them — newest first, bounded, behind evidence:read."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from conftest import GraphQLClient, RunningApp
from plugin_kit import execute, register

PROJECT = "github.com/acme/panels"

#: Draws what its input asks, so one plugin can leave several panels.
DRAW_CODE = """
def draw(data):
    return {"kind": "bar", "title": data["title"], "labels": ["mon"],
            "series": [{"name": "builds", "values": [data["value"]]}]}
"""

PANELS = """
query($project: String!, $limit: Int) {
  pluginPanels(project: $project, limit: $limit) {
    pluginId version pluginName project executionId createdAt title kind panel
  }
}"""

PANELS_DEFAULT = """
query($project: String!) { pluginPanels(project: $project) { pluginId title } }"""


async def draw(gql: GraphQLClient, plugin: str, title: str, value: float,
               project: str = PROJECT) -> None:
    payload = (await execute(gql, plugin, input={"title": title, "value": value},
                             project=project))["data"]["executePlugin"]
    assert payload["errors"] == [] and payload["panel"]["title"] == title, payload


async def register_drawer(gql: GraphQLClient, plugin_id: str, name: str) -> None:
    registered = await register(gql, code=DRAW_CODE, kind="visualization", entry_point="draw",
                                permissions=(), plugin_id=plugin_id, name=name)
    assert registered["errors"] == [], registered


async def test_each_plugins_newest_panel_comes_newest_first(gql: GraphQLClient):
    await register_drawer(gql, "acme.builds", "Build chart")
    await register_drawer(gql, "acme.deploys", "Deploy chart")
    await draw(gql, "acme.builds", "first builds", 1)
    await draw(gql, "acme.deploys", "deploys", 5)
    await draw(gql, "acme.builds", "latest builds", 2)
    await draw(gql, "acme.deploys", "another project", 9, project="github.com/acme/other")

    panels = (await gql(PANELS, {"project": PROJECT}))["data"]["pluginPanels"]
    assert [(p["pluginId"], p["title"]) for p in panels] == [
        ("acme.builds", "latest builds"), ("acme.deploys", "deploys")]
    newest = panels[0]
    assert newest["version"] == "1.0.0" and newest["pluginName"] == "Build chart"
    assert newest["project"] == PROJECT and newest["kind"] == "bar"
    assert newest["panel"]["series"] == [{"name": "builds", "values": [2]}]
    assert newest["createdAt"] >= panels[1]["createdAt"]
    execution = (await gql("query($id: ID!) { node(id: $id) { ... on PluginExecution { "
                           "pluginId status } } }", {"id": newest["executionId"]}))["data"]
    assert execution["node"] == {"pluginId": "acme.builds", "status": "SUCCEEDED"}

    # The slug is matched as the store keeps it (lower case, trimmed).
    shouting = (await gql(PANELS, {"project": f" {PROJECT.upper()} "}))["data"]
    assert [p["title"] for p in shouting["pluginPanels"]] == ["latest builds", "deploys"]
    only = (await gql(PANELS, {"project": PROJECT, "limit": 1}))["data"]["pluginPanels"]
    assert [p["title"] for p in only] == ["latest builds"]


async def test_a_project_without_panels_has_none(gql: GraphQLClient):
    for project in ("github.com/acme/nothing", "bad\u0000slug"):
        body = await gql(PANELS, {"project": project})
        assert body == {"data": {"pluginPanels": []}}, body


async def store_panels(count: int, values: int = 1) -> None:
    """`count` panels of plugins acme.p00, acme.p01, … stored as their executions would."""
    from arcos.plugins.models import PluginPanel

    for index in range(count):
        await PluginPanel.create(
            plugin_id=f"acme.p{index:02}", version="1.0.0", execution_uid=uuid.uuid4(),
            project=PROJECT, created_at=datetime.now(UTC),
            panel={"kind": "stat", "title": f"p{index:02}",
                   "series": [{"name": "n", "values": [index] * values}]})


async def test_at_most_twenty_panels_one_per_plugin(gql: GraphQLClient, app: RunningApp):
    await store_panels(25)
    panels = (await gql(PANELS_DEFAULT, {"project": PROJECT}))["data"]["pluginPanels"]
    assert [p["title"] for p in panels] == [f"p{index:02}" for index in range(24, 4, -1)]
    for limit in (0, 21, -1):
        refused = await gql(PANELS, {"project": PROJECT, "limit": limit})
        assert refused["data"] is None
        error = refused["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert "limit must be between 1 and 20" in error["message"]
    too_long = await gql(PANELS, {"project": "x" * 300})
    assert too_long["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", too_long


async def test_panels_count_toward_the_response_bound(settings):
    from conftest import running_app

    small = settings.replace(max_evidence_bytes=1024, max_response_bytes=8192)
    async with running_app(small) as app, app.client(app.admin_token) as http:
        gql = GraphQLClient(http)
        await store_panels(2, values=1000)  # each panel is about 2 KB: both fit
        fits = await gql(PANELS, {"project": PROJECT})
        assert [p["panel"]["title"] for p in fits["data"]["pluginPanels"]] == ["p01", "p00"]
        await store_panels(6, values=1000)
        too_large = await gql(PANELS, {"project": PROJECT})
        assert too_large["errors"][0]["extensions"]["code"] == "RESPONSE_TOO_LARGE"
        titles = await gql(PANELS_DEFAULT, {"project": PROJECT})
        assert len(titles["data"]["pluginPanels"]) == 6  # without `panel`, nothing to bound


async def test_panels_need_evidence_read(gql: GraphQLClient, app: RunningApp):
    await register_drawer(gql, "acme.builds", "Build chart")
    await draw(gql, "acme.builds", "builds", 3)
    catalogue_reader = await app.issue("catalogue-reader", "plugins:read")
    async with app.client(catalogue_reader) as http:
        refused = await GraphQLClient(http)(PANELS_DEFAULT, {"project": PROJECT})
    assert refused["data"] is None
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "evidence:read" in refused["errors"][0]["message"]
    async with app.client() as http:
        anonymous = await GraphQLClient(http)(PANELS_DEFAULT, {"project": PROJECT})
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    evidence_reader = await app.issue("evidence-reader", "evidence:read")
    async with app.client(evidence_reader) as http:
        seen = await GraphQLClient(http)(PANELS_DEFAULT, {"project": PROJECT})
    assert seen == {"data": {"pluginPanels": [{"pluginId": "acme.builds", "title": "builds"}]}}


async def test_rest_v3_reads_the_same_panels(gql: GraphQLClient, app: RunningApp):
    await register_drawer(gql, "acme.builds", "Build chart")
    await draw(gql, "acme.builds", "builds", 3)
    async with app.client(app.admin_token) as http:
        listed = await http.get("/api/v3/plugins/panels", params={"project": PROJECT})
        assert listed.status_code == 200 and listed.headers["api-version"] == "v3"
        body = listed.json()
        assert [(p["pluginId"], p["title"], p["panel"]["kind"]) for p in body] == [
            ("acme.builds", "builds", "bar")]
        none = await http.get("/api/v3/plugins/panels", params={"project": "a/none"})
        assert none.status_code == 200 and none.json() == []
        missing = await http.get("/api/v3/plugins/panels")
        assert missing.status_code == 400 and "?project=" in missing.text, missing.text
        too_many = await http.get("/api/v3/plugins/panels",
                                  params={"project": PROJECT, "limit": 50})
        assert too_many.status_code == 400, too_many.text
        assert "limit must be between 1 and 20" in too_many.text
        openapi = (await http.get("/api/openapi.json")).json()
        assert "get" in openapi["paths"]["/api/v3/plugins/panels"]
    catalogue_reader = await app.issue("catalogue-reader", "plugins:read")
    async with app.client(catalogue_reader) as http:
        refused = await http.get("/api/v3/plugins/panels", params={"project": PROJECT})
    assert refused.status_code == 403 and "evidence:read" in refused.text


EXECUTE_DRAW = """
mutation($input: ExecutePluginInput!) {
  executePlugin(input: $input) { panel warnings errors { code message } }
}"""


async def test_only_a_caller_who_may_write_to_a_project_puts_a_panel_on_it(
    gql: GraphQLClient, app: RunningApp
):
    """Every evidence:read holder sees a project's panels: a caller who may only run
    plugins gets the output back but does not put it on the project's dashboard."""
    await register_drawer(gql, "acme.builds", "Build chart")
    await draw(gql, "acme.builds", "real builds", 3)
    runner = await app.issue("runner", "plugins:execute")
    async with app.client(runner) as http:
        ran = (await GraphQLClient(http)(EXECUTE_DRAW, {"input": {
            "plugin": "acme.builds", "project": PROJECT,
            "input": {"title": "Call 555-0100 to fix your build", "value": 9}}}))
    payload = ran["data"]["executePlugin"]
    assert payload["errors"] == [] and payload["panel"] is None, payload
    assert "evidence:write" in payload["warnings"][0], payload
    panels = (await gql(PANELS_DEFAULT, {"project": PROJECT}))["data"]["pluginPanels"]
    assert panels == [{"pluginId": "acme.builds", "title": "real builds"}]


async def test_a_revoked_versions_panel_is_no_longer_shown(gql: GraphQLClient):
    await register_drawer(gql, "acme.builds", "Build chart")
    await register_drawer(gql, "acme.deploys", "Deploy chart")
    await draw(gql, "acme.builds", "builds", 3)
    await draw(gql, "acme.deploys", "deploys", 5)
    revoked = await gql('mutation { revokePlugin(input: {plugin: "acme.deploys"}) '
                        "{ errors { code } } }")
    assert revoked["data"]["revokePlugin"]["errors"] == [], revoked
    panels = (await gql(PANELS_DEFAULT, {"project": PROJECT}))["data"]["pluginPanels"]
    assert panels == [{"pluginId": "acme.builds", "title": "builds"}]


async def test_a_new_panel_replaces_the_versions_last_one_for_the_project(gql: GraphQLClient):
    """A plugin triggered by every upload must not leave a panel per upload behind."""
    from arcos.plugins.models import PluginPanel

    await register_drawer(gql, "acme.builds", "Build chart")
    for value in range(4):
        await draw(gql, "acme.builds", f"builds {value}", value)
    await draw(gql, "acme.builds", "elsewhere", 9, project="github.com/acme/other")
    kept = await PluginPanel.filter(plugin_id="acme.builds").order_by("project").values_list(
        "project", flat=True)
    assert kept == ["github.com/acme/other", PROJECT]
    panels = (await gql(PANELS_DEFAULT, {"project": PROJECT}))["data"]["pluginPanels"]
    assert panels == [{"pluginId": "acme.builds", "title": "builds 3"}]
