"""Access control on every root field, for every kind of caller; tokens, rate limit, CLI."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from conftest import running_app, start_server, stop_server
from strawberry.permission import PermissionExtension

from arcos.auth.caller import Caller
from arcos.auth.rate_limit import InMemoryTokenBucket
from arcos.auth.scopes import ADMIN, Scope
from arcos.auth.service import token_sha256
from arcos.community.scopes import COMMUNITY_READ, COMMUNITY_WRITE
from arcos.domains import REGISTRY
from arcos.evidence.scopes import EVIDENCE_READ, EVIDENCE_WRITE
from arcos.graphql.context import ArcosContext
from arcos.plugins.scopes import PLUGINS_EXECUTE, PLUGINS_READ, PLUGINS_WRITE
from arcos.webhooks.scopes import WEBHOOKS_ADMIN, WEBHOOKS_DELIVER

MISSING_EVIDENCE = "00000000-0000-0000-0000-000000000000"
MISSING_NODE = "RXZpZGVuY2U6MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw"


@dataclass(frozen=True)
class Operation:
    document: str
    scope: Scope | None  # None: explicitly public


#: Every root field of the schema, with an operation that reaches it and the scope it needs.
#: test_every_root_field_is_in_the_table keeps this complete.
OPERATIONS: dict[tuple[str, str], Operation] = {
    ("Query", "evidence"): Operation(
        f'{{ evidence(id: "{MISSING_EVIDENCE}") {{ id }} }}', EVIDENCE_READ),
    ("Query", "evidenceList"): Operation("{ evidenceList { id } }", EVIDENCE_READ),
    ("Query", "evidenceConnection"): Operation(
        "{ evidenceConnection { totalCount } }", EVIDENCE_READ),
    ("Query", "projects"): Operation("{ projects { nodes { slug } } }", EVIDENCE_READ),
    ("Query", "project"): Operation('{ project(slug: "a/b") { slug } }', EVIDENCE_READ),
    ("Query", "node"): Operation(f'{{ node(id: "{MISSING_NODE}") {{ id }} }}', EVIDENCE_READ),
    ("Query", "viewer"): Operation("{ viewer { name } }", None),
    ("Query", "apiTokens"): Operation("{ apiTokens { name } }", ADMIN),
    ("Mutation", "submitEvidence"): Operation(
        'mutation { submitEvidence(input: {type: "a", source: "b", data: {}}) { replayed } }',
        EVIDENCE_WRITE),
    ("Mutation", "submitEvidenceBatch"): Operation(
        'mutation { submitEvidenceBatch(input: {items: [{type: "a", source: "b", data: {}}]}) '
        "{ errors { code } } }", EVIDENCE_WRITE),
    ("Mutation", "linkEvidence"): Operation(
        f'mutation {{ linkEvidence(input: {{from: "{MISSING_EVIDENCE}", to: "{MISSING_NODE}", '
        "relation: RELATES_TO}) { errors { code } } }", EVIDENCE_WRITE),
    ("Mutation", "createApiToken"): Operation(
        'mutation { createApiToken(input: {name: "made-in-test", scopes: ["evidence:read"]}) '
        "{ token errors { code } } }", ADMIN),
    ("Mutation", "revokeApiToken"): Operation(
        'mutation { revokeApiToken(input: {token: "no-such-token"}) { errors { code } } }',
        ADMIN),
    ("Query", "webhookDeliveries"): Operation(
        "{ webhookDeliveries { nodes { event } } }", WEBHOOKS_ADMIN),
    ("Query", "webhookEndpoints"): Operation("{ webhookEndpoints { provider } }",
                                             WEBHOOKS_ADMIN),
    ("Mutation", "ingestWebhookDelivery"): Operation(
        'mutation { ingestWebhookDelivery(input: {provider: CICD, event: "build", '
        'dedupeKey: "k", body: "{}"}) { duplicate errors { code } } }', WEBHOOKS_DELIVER),
    ("Mutation", "reprocessWebhookDelivery"): Operation(
        'mutation { reprocessWebhookDelivery(input: {deliveryId: "1"}) { errors { code } } }',
        ADMIN),
    ("Mutation", "setWebhookSecret"): Operation(
        'mutation { setWebhookSecret(input: {name: GITHUB_WEBHOOK_SECRET, secret: '
        '"0123456789abcdef0123"}) { errors { code } } }', ADMIN),
    ("Subscription", "evidenceAdded"): Operation(
        "subscription { evidenceAdded { id } }", EVIDENCE_READ),
    ("Query", "findings"): Operation(
        '{ findings(project: "a/b") { nodes { tool } } }', EVIDENCE_READ),
    ("Query", "qualityMetrics"): Operation(
        '{ qualityMetrics(project: "a/b") { name } }', EVIDENCE_READ),
    ("Query", "qualityMetricSeries"): Operation(
        '{ qualityMetricSeries(project: "a/b") { name } }', EVIDENCE_READ),
    ("Query", "ingestionJob"): Operation(
        f'{{ ingestionJob(jobId: "{MISSING_EVIDENCE}") {{ status }} }}', EVIDENCE_READ),
    ("Mutation", "submitTestReport"): Operation(
        'mutation { submitTestReport(input: {content: "x"}) { errors { code } } }',
        EVIDENCE_WRITE),
    ("Mutation", "submitCoverageReport"): Operation(
        'mutation { submitCoverageReport(input: {content: "x"}) { errors { code } } }',
        EVIDENCE_WRITE),
    ("Mutation", "submitSecurityScan"): Operation(
        'mutation { submitSecurityScan(input: {content: "x"}) { errors { code } } }',
        EVIDENCE_WRITE),
    ("Mutation", "submitVulnerabilityReport"): Operation(
        'mutation { submitVulnerabilityReport(input: {content: "x"}) { errors { code } } }',
        EVIDENCE_WRITE),
    ("Mutation", "submitSbom"): Operation(
        'mutation { submitSbom(input: {content: "x"}) { errors { code } } }',
        EVIDENCE_WRITE),
    ("Mutation", "recordBuild"): Operation(
        'mutation { recordBuild(input: {content: "x"}) { errors { code } } }',
        EVIDENCE_WRITE),
    ("Mutation", "recordDeployment"): Operation(
        'mutation { recordDeployment(input: {content: "x"}) { errors { code } } }',
        EVIDENCE_WRITE),
    ("Subscription", "qualityMetricUpdated"): Operation(
        'subscription { qualityMetricUpdated(project: "a/b") { name } }', EVIDENCE_READ),
    ("Query", "plugins"): Operation("{ plugins { totalCount } }", PLUGINS_READ),
    ("Query", "plugin"): Operation('{ plugin(id: "a.b") { name } }', PLUGINS_READ),
    ("Query", "pluginExecutions"): Operation(
        "{ pluginExecutions { nodes { status } } }", PLUGINS_READ),
    ("Query", "pluginStats"): Operation("{ pluginStats { executions } }", PLUGINS_READ),
    ("Query", "pluginPanelSchema"): Operation("{ pluginPanelSchema }", PLUGINS_READ),
    ("Query", "pluginPanels"): Operation(
        '{ pluginPanels(project: "a/b") { pluginId } }', EVIDENCE_READ),
    ("Mutation", "registerPlugin"): Operation(
        'mutation { registerPlugin(input: {manifest: {}, code: ""}) { errors { code } } }',
        PLUGINS_WRITE),
    ("Mutation", "validatePlugin"): Operation(
        'mutation { validatePlugin(input: {manifest: {}, code: ""}) { valid } }',
        PLUGINS_WRITE),
    ("Mutation", "approvePlugin"): Operation(
        'mutation { approvePlugin(input: {plugin: "a.b", version: "1.0.0"}) { errors { code } } }',
        PLUGINS_WRITE),
    ("Mutation", "revokePlugin"): Operation(
        'mutation { revokePlugin(input: {plugin: "a.b"}) { errors { code } } }', ADMIN),
    ("Mutation", "unregisterPlugin"): Operation(
        'mutation { unregisterPlugin(input: {plugin: "a.b"}) { errors { code } } }',
        PLUGINS_WRITE),
    ("Mutation", "setPluginEnabled"): Operation(
        'mutation { setPluginEnabled(input: {plugin: "a.b", enabled: false}) '
        "{ errors { code } } }", PLUGINS_WRITE),
    ("Mutation", "executePlugin"): Operation(
        'mutation { executePlugin(input: {plugin: "a.b", version: "1.0.0"}) '
        "{ errors { code } } }", PLUGINS_EXECUTE),
    ("Subscription", "pluginExecutionFinished"): Operation(
        "subscription { pluginExecutionFinished { status } }", PLUGINS_READ),
    ("Query", "communityStats"): Operation(
        "{ communityStats { contributors } }", COMMUNITY_READ),
    ("Mutation", "withdrawCommunityItem"): Operation(
        f'mutation {{ withdrawCommunityItem(id: "{MISSING_NODE}") {{ errors {{ code }} }} }}',
        COMMUNITY_WRITE),
    ("Mutation", "hideCommunityItem"): Operation(
        f'mutation {{ hideCommunityItem(id: "{MISSING_NODE}") {{ errors {{ code }} }} }}',
        ADMIN),
    ("Query", "patterns"): Operation("{ patterns { totalCount } }", COMMUNITY_READ),
    ("Query", "practices"): Operation("{ practices { totalCount } }", COMMUNITY_READ),
    ("Mutation", "sharePattern"): Operation(
        'mutation { sharePattern(input: {name: "n", category: TESTING, description: "d", '
        "pattern: {}}) { errors { code } } }", COMMUNITY_WRITE),
    ("Mutation", "updatePattern"): Operation(
        f'mutation {{ updatePattern(id: "{MISSING_EVIDENCE}", input: {{name: "n"}}) '
        "{ errors { code } } }", COMMUNITY_WRITE),
    ("Mutation", "ratePattern"): Operation(
        f'mutation {{ ratePattern(id: "{MISSING_EVIDENCE}", stars: 3) {{ errors {{ code }} }} }}',
        COMMUNITY_WRITE),
    ("Mutation", "recordPatternUse"): Operation(
        f'mutation {{ recordPatternUse(id: "{MISSING_EVIDENCE}", project: "a/b") '
        "{ errors { code } } }", COMMUNITY_WRITE),
    ("Mutation", "addPractice"): Operation(
        'mutation { addPractice(input: {title: "t", category: TESTING, description: "d"}) '
        "{ errors { code } } }", COMMUNITY_WRITE),
    ("Mutation", "updatePractice"): Operation(
        f'mutation {{ updatePractice(id: "{MISSING_EVIDENCE}", input: {{title: "t"}}) '
        "{ errors { code } } }", COMMUNITY_WRITE),
    ("Mutation", "upvotePractice"): Operation(
        f'mutation {{ upvotePractice(id: "{MISSING_EVIDENCE}") {{ errors {{ code }} }} }}',
        COMMUNITY_WRITE),
    ("Mutation", "withdrawUpvote"): Operation(
        f'mutation {{ withdrawUpvote(id: "{MISSING_EVIDENCE}") {{ errors {{ code }} }} }}',
        COMMUNITY_WRITE),
    ("Query", "industryTemplates"): Operation(
        "{ industryTemplates { totalCount } }", COMMUNITY_READ),
    ("Query", "industryTemplate"): Operation(
        '{ industryTemplate(key: "healthcare") { name } }', COMMUNITY_READ),
    ("Query", "complianceTemplates"): Operation(
        "{ complianceTemplates { totalCount } }", COMMUNITY_READ),
    ("Query", "complianceTemplate"): Operation(
        '{ complianceTemplate(key: "soc2") { name } }', COMMUNITY_READ),
    ("Query", "complianceStatus"): Operation(
        '{ complianceStatus(project: "a/b", framework: "soc2") { project } }',
        COMMUNITY_READ),
    ("Query", "complianceChecklist"): Operation(
        '{ complianceChecklist(framework: "soc2") }', COMMUNITY_READ),
    ("Mutation", "addIndustryTemplate"): Operation(
        'mutation { addIndustryTemplate(input: {key: "k", name: "n", argument: []}) '
        "{ errors { code } } }", COMMUNITY_WRITE),
    ("Mutation", "addComplianceTemplate"): Operation(
        'mutation { addComplianceTemplate(input: {key: "k", name: "n", controls: []}) '
        "{ errors { code } } }", COMMUNITY_WRITE),
    ("Mutation", "updateIndustryTemplate"): Operation(
        f'mutation {{ updateIndustryTemplate(id: "{MISSING_EVIDENCE}", input: {{name: "n"}}) '
        "{ errors { code } } }", COMMUNITY_WRITE),
    ("Mutation", "updateComplianceTemplate"): Operation(
        f'mutation {{ updateComplianceTemplate(id: "{MISSING_EVIDENCE}", input: {{name: "n"}}) '
        "{ errors { code } } }", COMMUNITY_WRITE),
    ("Query", "threats"): Operation("{ threats { totalCount } }", COMMUNITY_READ),
    ("Query", "stixBundle"): Operation("{ stixBundle }", COMMUNITY_READ),
    ("Query", "stixObjects"): Operation("{ stixObjects { totalCount } }", COMMUNITY_READ),
    ("Mutation", "shareThreat"): Operation(
        'mutation { shareThreat(input: {title: "", kind: TOOL, severity: LOW}) '
        "{ errors { code } } }", COMMUNITY_WRITE),
    ("Mutation", "updateThreat"): Operation(
        f'mutation {{ updateThreat(id: "{MISSING_EVIDENCE}", input: {{title: "t"}}) '
        "{ errors { code } } }", COMMUNITY_WRITE),
    ("Mutation", "importStixBundle"): Operation(
        "mutation { importStixBundle(bundle: {}) { errors { code } } }", COMMUNITY_WRITE),
    ("Subscription", "threatMatched"): Operation(
        'subscription { threatMatched(project: "a/b") { cause } }', COMMUNITY_READ),
    ("Query", "benchmarks"): Operation(
        "{ benchmarks(first: 1) { totalCount } }", COMMUNITY_READ),
    ("Query", "compareToBenchmark"): Operation(
        f'{{ compareToBenchmark(benchmark: "{MISSING_NODE}", metrics: [{{name: "a", '
        'value: 1}]) { better } }', COMMUNITY_READ),
    ("Query", "communityBenchmark"): Operation(
        '{ communityBenchmark(industry: "finance") { published } }', COMMUNITY_READ),
    ("Mutation", "addBenchmark"): Operation(
        'mutation { addBenchmark(input: {name: "b", industry: "finance", projectType: "w", '
        "metrics: []}) { errors { code } } }", COMMUNITY_WRITE),
    ("Mutation", "updateBenchmark"): Operation(
        f'mutation {{ updateBenchmark(input: {{id: "{MISSING_NODE}", name: "b", industry: '
        '"finance", projectType: "w", metrics: []}) { errors { code } } }',
        COMMUNITY_WRITE),
    ("Mutation", "optInCommunityBenchmarks"): Operation(
        'mutation { optInCommunityBenchmarks(input: {project: "acme/none", industry: "f", '
        'projectType: "w"}) { errors { code } } }', COMMUNITY_WRITE),
    ("Mutation", "optOutCommunityBenchmarks"): Operation(
        'mutation { optOutCommunityBenchmarks(input: {project: "acme/none"}) '
        "{ errors { code } } }", COMMUNITY_WRITE),
    ("Query", "assuranceCase"): Operation(
        '{ assuranceCase(id: "missing") { caseId } }', EVIDENCE_READ),
    ("Query", "assuranceCases"): Operation(
        '{ assuranceCases(project: "a/b") { caseId } }', EVIDENCE_READ),
    ("Query", "caseStatusAt"): Operation(
        '{ caseStatusAt(id: "missing", at: "2026-01-01T00:00:00Z") { status } }',
        EVIDENCE_READ),
    ("Query", "validateCase"): Operation(
        '{ validateCase(json: {title: "t", elements: []}) { wellformedness } }',
        EVIDENCE_READ),
    ("Query", "verifySnapshot"): Operation(
        '{ verifySnapshot(hash: "00") { valid } }', EVIDENCE_READ),
    ("Mutation", "createAssuranceCase"): Operation(
        'mutation { createAssuranceCase(input: {project: "a/b", json: {title: "t", '
        "elements: []}}) { errors { code } } }", EVIDENCE_WRITE),
    ("Mutation", "updateAssuranceCase"): Operation(
        'mutation { updateAssuranceCase(input: {id: "missing", json: {title: "t", '
        "elements: []}}) { errors { code } } }", EVIDENCE_WRITE),
    ("Mutation", "snapshotCase"): Operation(
        'mutation { snapshotCase(id: "missing") { errors { code } } }', EVIDENCE_WRITE),
    ("Mutation", "createCaseFromTemplate"): Operation(
        'mutation { createCaseFromTemplate(input: {template: "finance", project: "a/b"}) '
        "{ errors { code } } }", EVIDENCE_WRITE),
    ("Subscription", "assuranceCaseUpdated"): Operation(
        'subscription { assuranceCaseUpdated(id: "missing") { caseId } }', EVIDENCE_READ),
}

AUTH_CODES = {"UNAUTHENTICATED", "FORBIDDEN"}


def root_fields(schema) -> list[tuple[str, str, object]]:
    fields = []
    for type_name in ("Query", "Mutation", "Subscription"):
        definition = schema.get_type_by_name(type_name)
        for field in definition.fields:
            graphql_name = schema.config.name_converter.get_graphql_name(field)
            fields.append((type_name, graphql_name, field))
    return fields


def test_every_root_field_declares_a_permission(sqlite_schema):
    undeclared = [
        f"{type_name}.{name}" for type_name, name, field in root_fields(sqlite_schema)
        if not field.permission_classes
        and not any(isinstance(e, PermissionExtension) for e in field.extensions)
    ]
    assert not undeclared, f"fields without permission_classes: {undeclared}"


def test_every_root_field_is_in_the_table(sqlite_schema):
    names = {(type_name, name) for type_name, name, _ in root_fields(sqlite_schema)}
    assert names == set(OPERATIONS), (
        f"add these to OPERATIONS: {sorted(names - set(OPERATIONS))}; "
        f"stale entries: {sorted(set(OPERATIONS) - names)}"
    )


@pytest.fixture
def sqlite_schema():
    from arcos.schema import create_schema
    from arcos.settings import Settings

    return create_schema(Settings())


async def run(app, token: str | None, operation: Operation) -> tuple[int, dict]:
    """Run an operation as the holder of `token`: over HTTP, or via schema.subscribe."""
    if operation.document.startswith("subscription"):
        return 200, await first_subscription_result(app, token, operation.document)
    async with app.client(token) as http:
        response = await http.post("/graphql", json={"query": operation.document})
    return response.status_code, response.json()


async def first_subscription_result(app, token: str | None, document: str) -> dict:
    from arcos.auth.transport import caller_from_authorization

    settings = app.app.state.settings
    caller = await caller_from_authorization(
        f"Bearer {token}" if token else None, settings.anonymous_read
    )
    context = ArcosContext(
        settings=settings, broker=app.app.state.broker, caller=caller,
        rate_limiter=app.app.state.rate_limiter,
    )
    stream = await app.app.state.schema.subscribe(document, context_value=context)
    if hasattr(stream, "errors"):
        return stream.formatted if hasattr(stream, "formatted") else {
            "errors": [e.formatted for e in stream.errors]
        }
    try:
        result = await asyncio.wait_for(anext(stream), 0.3)
    except TimeoutError:
        return {"data": "subscribed"}  # allowed: waiting for events
    finally:
        await stream.aclose()
    return {"errors": [e.formatted for e in result.errors or []]}


def auth_codes(body: dict) -> set[str]:
    return {
        e.get("extensions", {}).get("code") for e in body.get("errors", [])
    } & AUTH_CODES


@pytest.fixture
async def callers(app):
    """Tokens for each kind of caller the table is run as."""
    tokens = {
        "admin": app.admin_token,
        "reader": await app.issue("reader", "evidence:read"),
        "writer": await app.issue("writer", "evidence:write"),
        "unrelated": await app.issue("unrelated", "community:read"),
        "unrelated-to-community": await app.issue("unrelated-to-community", "plugins:execute"),
        "hooks": await app.issue("hooks", "webhooks:admin"),
        "deliverer": await app.issue("deliverer", "webhooks:deliver"),
        "revoked": await app.issue("revoked", "admin"),
        "expired": await app.issue("expired", "admin", expires_in="1h"),
    }
    from datetime import UTC, datetime, timedelta

    from arcos.auth.models import ApiToken
    from arcos.auth.service import revoke_token

    await revoke_token("revoked", app.app.state.writer)
    await ApiToken.filter(name="expired").update(
        expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    return tokens


@pytest.mark.parametrize("field", sorted(OPERATIONS), ids=lambda f: f"{f[0]}.{f[1]}")
async def test_permission_table(app, callers, field):
    operation = OPERATIONS[field]
    status, body = await run(app, None, operation)
    if operation.scope is None:
        assert status == 200 and not auth_codes(body), body
    else:
        assert auth_codes(body) == {"UNAUTHENTICATED"}, body

    unrelated = "unrelated-to-community" if operation.scope == COMMUNITY_READ \
        else "unrelated"
    status, body = await run(app, callers[unrelated], operation)
    if operation.scope is None:
        assert not auth_codes(body), body
    else:
        assert auth_codes(body) == {"FORBIDDEN"}, body
        assert operation.scope.value in body["errors"][0]["message"]

    for holder in ("admin", {EVIDENCE_READ: "reader", EVIDENCE_WRITE: "writer",
                             WEBHOOKS_ADMIN: "hooks", WEBHOOKS_DELIVER: "deliverer"}
                   .get(operation.scope, "admin")):
        status, body = await run(app, callers[holder], operation)
        assert status == 200 and not auth_codes(body), (holder, body)

    for dead in ("revoked", "expired"):
        if operation.document.startswith("subscription"):
            continue  # websockets refuse dead tokens at connection_init (tested over a socket)
        status, body = await run(app, callers[dead], operation)
        assert status == 401, (dead, body)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_dead_tokens_get_401_with_www_authenticate(app, callers, anonymous_client):
    for value in (f"Bearer {callers['revoked']}", f"Bearer {callers['expired']}",
                  "Bearer arcos_" + "x" * 43, "Bearer nonsense", "Basic dXNlcjpwYXNz"):
        response = await anonymous_client.post(
            "/graphql", json={"query": "{ viewer { name } }"}, headers={"authorization": value}
        )
        assert response.status_code == 401, value
        assert response.headers["www-authenticate"].startswith("Bearer")
        hint = "Bearer <token>" if value.startswith("Basic") else "arcos token create"
        assert hint in response.json()["errors"][0]["message"]


async def test_viewer_reports_the_caller(app, callers):
    async with app.client(callers["writer"]) as http:
        body = (await http.post("/graphql", json={"query": "{ viewer { authenticated name "
                                                            "scopes tokenName kind } }"})).json()
    assert body["data"]["viewer"] == {
        "authenticated": True, "name": "writer", "scopes": ["evidence:write"],
        "tokenName": "writer", "kind": "ci",
    }
    async with app.client() as http:
        body = (await http.post("/graphql", json={"query": "{ viewer { authenticated name "
                                                            "scopes } }"})).json()
    assert body["data"]["viewer"] == {"authenticated": False, "name": "anonymous", "scopes": []}


async def test_evidence_records_its_submitter(app, callers):
    async with app.client(callers["writer"]) as http:
        body = (await http.post("/graphql", json={"query": 'mutation { submitEvidence(input: '
                                '{type: "a", source: "b", data: {}}) { evidence { submittedBy } } }'
                                })).json()
    assert body["data"]["submitEvidence"]["evidence"]["submittedBy"] == "writer"


async def test_tokens_are_random_prefixed_and_stored_only_as_hashes(app):
    from arcos.auth.models import ApiToken

    first = await app.issue("one", "evidence:read")
    second = await app.issue("two", "evidence:read")
    assert first.startswith("arcos_") and second.startswith("arcos_") and first != second
    assert len(first) == len("arcos_") + 43
    rows = await ApiToken.filter(name__in=["one", "two"]).order_by("id")
    assert [row.secret_sha256 for row in rows] == [token_sha256(first), token_sha256(second)]
    stored = " ".join(str(vars(row)) for row in rows)
    assert first not in stored and second not in stored


async def test_create_and_revoke_tokens_through_graphql(app, gql):
    created = await gql(
        'mutation { createApiToken(input: {name: "dash", scopes: ["evidence:read"], '
        'expiresIn: "30d"}) { token apiToken { name scopes expiresAt active displayPrefix } '
        "errors { field code message } } }"
    )
    payload = created["data"]["createApiToken"]
    assert payload["errors"] == []
    secret = payload["token"]
    assert payload["apiToken"]["displayPrefix"] == secret[:10]
    assert payload["apiToken"]["active"] is True and payload["apiToken"]["expiresAt"]
    async with app.client(secret) as http:
        assert (await http.post("/graphql", json={"query": "{ evidenceList { id } }"})).json() == {
            "data": {"evidenceList": []}
        }
    revoked = await gql(
        'mutation { revokeApiToken(input: {token: "dash"}) { apiToken { active revokedAt } } }'
    )
    assert revoked["data"]["revokeApiToken"]["apiToken"]["active"] is False
    async with app.client(secret) as http:
        response = await http.post("/graphql", json={"query": "{ evidenceList { id } }"})
    assert response.status_code == 401
    listing = await gql("{ apiTokens { name active } }")
    assert {"name": "dash", "active": False} in listing["data"]["apiTokens"]


@pytest.mark.parametrize(
    ("input_literal", "field"),
    [
        ('{name: "x", scopes: ["everything"]}', "scopes"),
        ('{name: "x", scopes: []}', "scopes"),
        ('{name: "x", scopes: ["admin"], expiresIn: "soon"}', "expiresIn"),
        ('{name: "has space", scopes: ["admin"]}', "name"),
        ('{name: "test-admin", scopes: ["admin"]}', "name"),
    ],
)
async def test_bad_token_requests_are_user_errors(gql, input_literal, field):
    result = await gql(
        f"mutation {{ createApiToken(input: {input_literal}) {{ token errors {{ field code }} }} }}"
    )
    payload = result["data"]["createApiToken"]
    assert payload["token"] is None
    assert payload["errors"][0]["field"] == field


async def test_anonymous_read_setting_opens_reads_only(tmp_path):
    from arcos.settings import Settings

    settings = Settings(database_url=f"sqlite://{tmp_path / 'public.db'}", anonymous_read=True)
    async with running_app(settings) as running, running.client() as http:
        read = await http.post("/graphql", json={"query": "{ evidenceList { id } }"})
        assert read.json() == {"data": {"evidenceList": []}}
        write = await http.post("/graphql", json={"query": OPERATIONS[
            ("Mutation", "submitEvidence")].document})
        assert auth_codes(write.json()) == {"UNAUTHENTICATED"}


async def test_write_rate_limit_answers_rate_limited_with_a_retry_hint(tmp_path):
    from arcos.settings import Settings

    settings = Settings(
        database_url=f"sqlite://{tmp_path / 'rate.db'}", write_rate_per_minute=60, write_burst=3
    )
    document = OPERATIONS[("Mutation", "submitEvidence")].document
    async with running_app(settings) as running, running.client(running.admin_token) as http:
        results = [
            (await http.post("/graphql", json={"query": document})).json() for _ in range(4)
        ]
        assert all("errors" not in r for r in results[:3])
        error = results[3]["errors"][0]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert error["extensions"]["retryAfterSeconds"] >= 1
        reads = await http.post("/graphql", json={"query": "{ evidenceList { id } }"})
        assert "errors" not in reads.json()


async def test_token_bucket_refills_over_time(monkeypatch):
    now = [100.0]
    bucket = InMemoryTokenBucket(rate_per_minute=60, burst=2)
    monkeypatch.setattr(bucket, "_now", lambda: now[0])
    assert await bucket.acquire("a") is None and await bucket.acquire("a") is None
    assert await bucket.acquire("a") == pytest.approx(1.0)
    assert await bucket.acquire("b") is None  # per principal
    now[0] += 1.0
    assert await bucket.acquire("a") is None


async def test_failed_authentication_is_logged_without_the_token(app, anonymous_client, caplog):
    secret = "arcos_" + "Q" * 43
    with caplog.at_level("WARNING", logger="arcos.auth"):
        await anonymous_client.post("/graphql", json={"query": "{ viewer { name } }"},
                                    headers={"authorization": f"Bearer {secret}"})
    assert "authentication failed: unknown token" in caplog.text
    assert secret not in caplog.text and "QQQQ" not in caplog.text


def test_cli_token_lifecycle(tmp_path: Path):
    url = f"sqlite://{tmp_path / 'cli.db'}"

    def arcos(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "arcos", "token", *args, "--database-url",
                               url], capture_output=True, text=True, timeout=60)

    created = arcos("create", "--create-store", "--name", "jenkins", "--scope",
                    "evidence:write", "--expires-in", "30d")
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip()
    assert secret.startswith("arcos_") and "shown only this once" in created.stderr
    assert arcos("create", "--name", "jenkins", "--scope", "admin").returncode == 1
    bad = arcos("create", "--name", "x", "--scope", "root")
    assert bad.returncode == 1 and "unknown scope 'root'" in bad.stderr
    listing = arcos("list")
    assert "jenkins" in listing.stdout and "active" in listing.stdout
    assert secret not in listing.stdout
    assert arcos("revoke", "jenkins").returncode == 0
    assert '"state": "revoked"' in arcos("list", "--json").stdout
    missing = arcos("revoke", "nobody")
    assert missing.returncode == 1 and "no token" in missing.stderr


def test_first_start_prints_an_admin_token_that_works(tmp_path: Path):
    url = f"sqlite://{tmp_path / 'first.db'}"
    server = start_server(url, tmp_path / "first.log", token="unused")
    try:
        log = server.log()
        secret = next(word for word in log.split() if word.startswith("arcos_"))
        assert "shown only this once" in log and "Authorization: Bearer" in log
        response = httpx.post(f"{server.http_url}/graphql",
                              json={"query": "{ viewer { name scopes } }"},
                              headers={"authorization": f"Bearer {secret}"})
        assert response.json()["data"]["viewer"] == {"name": "admin", "scopes": ["admin"]}
        anonymous = httpx.post(f"{server.http_url}/graphql",
                               json={"query": "{ evidenceList { id } }"})
        assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    finally:
        stop_server(server)
    again = start_server(url, tmp_path / "second.log", token="unused")
    try:
        assert "arcos_" not in again.log()
    finally:
        stop_server(again)


def test_caller_helpers():
    assert Caller.anonymous(allow_read=False).scopes == frozenset()
    assert Caller.anonymous(allow_read=True).may(EVIDENCE_READ)
    assert not Caller.anonymous(allow_read=True).may(EVIDENCE_WRITE)
    assert not Caller.anonymous(allow_read=False).may(EVIDENCE_READ)
    admin = Caller(name="a", scopes=frozenset({ADMIN}), authenticated=True)
    assert all(admin.may(scope) for scope in REGISTRY.scopes)


async def test_every_401_carries_the_bearer_challenge(anonymous_client):
    """One builder answers every refusal, so every transport's 401 names the scheme."""
    bad = {"authorization": "Bearer nonsense"}
    item = {"type": "a", "source": "b", "data": {}}
    multipart = {"content-type": "multipart/form-data; boundary=x"}
    responses = {
        "graphql, bad token": await anonymous_client.post(
            "/graphql", json={"query": "{ viewer { name } }"}, headers=bad),
        "graphql upload, no token": await anonymous_client.post(
            "/graphql", content=b"--x--\r\n", headers=multipart),
        "rest, bad token": await anonymous_client.get("/api/v3/evidence", headers=bad),
        "rest, no token for a write": await anonymous_client.post("/api/v1/evidence", json=item),
        "sse, bad token": await anonymous_client.get("/api/v3/evidence/stream", headers=bad),
        "webhook, unsigned": await anonymous_client.post(
            "/api/webhooks/github", content=b"{}", headers={"x-github-event": "push"}),
        "ci/cd webhook, no token": await anonymous_client.post(
            "/api/webhooks/cicd", content=b"{}", headers={"content-type": "application/json"}),
    }
    for name, response in responses.items():
        assert response.status_code == 401, (name, response.text)
        assert response.headers.get("www-authenticate") == 'Bearer realm="arcos"', name
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", name
