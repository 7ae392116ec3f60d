"""Registration, versions and their standing, through the public GraphQL path."""

from __future__ import annotations

from conftest import GraphQLClient, RunningApp
from plugin_kit import APPROVE, COLLECTOR_CODE, REGISTER, VALIDATE, manifest, register


async def test_a_registrant_holding_every_permission_activates_at_once(gql: GraphQLClient):
    registered = await register(gql)
    plugin = registered["plugin"]
    assert registered["errors"] == [] and registered["problems"] == []
    assert plugin["state"] == "ACTIVE" and plugin["latest"] is True
    assert plugin["approvedPermissions"] == ["EVIDENCE_WRITE"]
    assert len(plugin["codeSha256"]) == 64 and plugin["signature"] and plugin["keyId"]


async def test_versions_are_immutable(gql: GraphQLClient):
    await register(gql)
    again = await register(gql, code=COLLECTOR_CODE + "\n# changed\n")
    assert again["plugin"] is None
    assert again["errors"][0]["code"] == "CONFLICT"
    assert "register a new version" in again["errors"][0]["message"]


async def test_a_version_differing_only_in_build_metadata_is_refused(gql: GraphQLClient):
    """`1.0.0+a` and `1.0.0+b` have equal precedence: both stored, "latest" would be a tie."""
    await register(gql, version="1.0.0+a")
    tie = await register(gql, version="1.0.0+b")
    assert tie["plugin"] is None and tie["errors"][0]["code"] == "CONFLICT"
    assert "same precedence as 1.0.0+a" in tie["errors"][0]["message"]
    assert (await register(gql, version="1.0.1+b"))["plugin"]["latest"] is True


async def test_an_upgrade_that_widens_permissions_waits_for_approval(app: RunningApp):
    token = await app.issue("publisher", "plugins:write", "evidence:read")
    async with app.client(token) as http:
        publisher = GraphQLClient(http)
        first = await register(publisher, permissions=("evidence.read",))
        assert first["plugin"]["state"] == "ACTIVE"  # it holds evidence:read
        same = await register(publisher, version="1.0.1", permissions=("evidence.read",))
        assert same["plugin"]["state"] == "ACTIVE"
        wider = await register(publisher, version="1.1.0",
                               permissions=("evidence.read", "evidence.write"))
        assert wider["plugin"]["state"] == "PENDING_APPROVAL"
        assert wider["plugin"]["approvedPermissions"] == []
        # The publisher cannot approve what it does not hold.
        refused = (await publisher(APPROVE, {"input": {
            "plugin": "acme.coverage_gate", "version": "1.1.0"}}))["data"]["approvePlugin"]
        assert refused["plugin"] is None and "evidence.write" in refused["errors"][0]["message"]
    async with app.client(app.admin_token) as http:
        approved = (await GraphQLClient(http)(APPROVE, {"input": {
            "plugin": "acme.coverage_gate", "version": "1.1.0"}}))["data"]["approvePlugin"]
    assert approved["plugin"]["state"] == "ACTIVE"
    assert approved["plugin"]["approvedPermissions"] == ["EVIDENCE_READ", "EVIDENCE_WRITE"]
    assert approved["plugin"]["approvedBy"] == "test-admin"


async def test_only_the_publisher_or_an_admin_adds_versions(app: RunningApp, gql: GraphQLClient):
    await register(gql)
    token = await app.issue("squatter", "plugins:write", "evidence:write")
    async with app.client(token) as http:
        squatted = await register(GraphQLClient(http), version="9.0.0")
    assert squatted["plugin"] is None
    assert "only they or an admin" in squatted["errors"][0]["message"]


async def test_validation_reports_every_problem_with_its_position(gql: GraphQLClient):
    code = "import os\n\ndef collect():\n    return os.name\n"
    bad = manifest(version="1.0", kind="gadget")
    body = await gql(VALIDATE, {"input": {"manifest": bad, "code": code}})
    report = body["data"]["validatePlugin"]
    assert report["valid"] is False
    fields = {p["field"] for p in report["problems"]}
    assert {"manifest.version", "manifest.type", "code"} <= fields
    code_problem = next(p for p in report["problems"] if p["field"] == "code")
    assert code_problem["line"] == 1 and code_problem["column"] == 1
    # Nothing was stored.
    listed = await gql("{ plugins { totalCount } }")
    assert listed["data"]["plugins"]["totalCount"] == 0


async def test_registration_refuses_oversized_code_before_any_check(gql: GraphQLClient):
    code = "def collect():\n    return 1\n" + "#" * (64 * 1024)
    body = await gql(REGISTER, {"input": {"manifest": manifest(), "code": code}})
    payload = body["data"]["registerPlugin"]
    assert payload["plugin"] is None
    assert payload["problems"][0]["field"] == "code"
    assert payload["problems"][0]["code"] == "TOO_LARGE"


async def test_search_ranks_id_and_tags_above_descriptions(gql: GraphQLClient):
    await register(gql, plugin_id="acme.notes", name="Release notes",
                   description="Mentions coverage in passing")
    await register(gql, plugin_id="acme.coverage", name="Coverage", tags=["coverage"])
    await register(gql, plugin_id="acme.lint", name="Linter", kind="metric",
                   description="Lint counts")
    found = await gql('{ plugins(search: "Coverage") { totalCount nodes { pluginId } } }')
    connection = found["data"]["plugins"]
    assert connection["totalCount"] == 2
    assert [n["pluginId"] for n in connection["nodes"]] == ["acme.coverage", "acme.notes"]
    metrics = await gql("{ plugins(type: METRIC) { nodes { pluginId } } }")
    assert metrics["data"]["plugins"]["nodes"] == [{"pluginId": "acme.lint"}]
    paged = await gql("{ plugins(first: 1) { nodes { pluginId } pageInfo { endCursor } } }")
    cursor = paged["data"]["plugins"]["pageInfo"]["endCursor"]
    rest = await gql("query($after: String) { plugins(first: 5, after: $after) "
                     "{ nodes { pluginId } } }", {"after": cursor})
    assert [n["pluginId"] for n in rest["data"]["plugins"]["nodes"]] == [
        "acme.lint", "acme.notes"]


async def test_the_catalogue_shows_the_highest_non_revoked_version(gql: GraphQLClient):
    for version in ("1.0.0", "1.10.0", "1.9.0"):
        await register(gql, version=version)
    shown = '{ plugin(id: "acme.coverage_gate") { latest { version } versions { version } } }'
    plugin = (await gql(shown))["data"]["plugin"]
    assert plugin["latest"]["version"] == "1.10.0"
    assert [v["version"] for v in plugin["versions"]] == ["1.0.0", "1.10.0", "1.9.0"]
    await gql('mutation { revokePlugin(input: {plugin: "acme.coverage_gate", '
              'version: "1.10.0"}) { errors { code } } }')
    assert (await gql(shown))["data"]["plugin"]["latest"]["version"] == "1.9.0"
    await gql('mutation { revokePlugin(input: {plugin: "acme.coverage_gate"}) '
              "{ errors { code } } }")
    revoked = (await gql('{ plugin(id: "acme.coverage_gate") { latest { version state } } '
                         "plugins { totalCount } }"))["data"]
    assert revoked["plugin"]["latest"] == {"version": "1.10.0", "state": "REVOKED"}
    assert revoked["plugins"]["totalCount"] == 0
