"""Malformed, oversized and out-of-place input to every plugin mutation: a coded error
that says what to fix, never a 500, never a half-written row."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import GraphQLClient
from plugin_kit import register

from arcos.plugins.models import PluginExecution, PluginVersion

LONG_ID = "a" * 101


def codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


@pytest.mark.parametrize(("document", "expected"), [
    ('mutation { registerPlugin(input: {manifest: "x", code: "def f():\\n    return 1\\n"}) '
     "{ errors { field message } } }", "manifest"),
    ("mutation { registerPlugin(input: {manifest: {}, code: 5}) { errors { field } } }",
     "GRAPHQL_VALIDATION_FAILED"),
    ('mutation { validatePlugin(input: {manifest: [], code: ""}) '
     "{ problems { field message } } }", "manifest"),
    ('mutation { approvePlugin(input: {plugin: "no.such", version: "1.0.0"}) '
     "{ errors { field message code } } }", "NOT_FOUND"),
    ('mutation { revokePlugin(input: {plugin: "no.such"}) { errors { code message } } }',
     "NOT_FOUND"),
    ('mutation { unregisterPlugin(input: {plugin: "no.such"}) { errors { code message } } }',
     "NOT_FOUND"),
    ('mutation { setPluginEnabled(input: {plugin: "no.such", enabled: true}) '
     "{ errors { code message } } }", "NOT_FOUND"),
    ('mutation { executePlugin(input: {plugin: "no.such"}) { errors { code } } }',
     "NOT_FOUND"),
    (f'mutation {{ executePlugin(input: {{plugin: "{LONG_ID}"}}) {{ errors {{ code }} }} }}',
     "BAD_USER_INPUT"),
    (f'mutation {{ revokePlugin(input: {{plugin: "{LONG_ID}"}}) {{ errors {{ code }} }} }}',
     "BAD_USER_INPUT"),
    ('mutation { executePlugin(input: {plugin: "acme.coverage_gate", input: [1]}) '
     "{ errors { field message } } }", "input"),
    ('mutation { executePlugin(input: {plugin: "acme.coverage_gate", project: "Not A Slug!"})'
     " { errors { field message } } }", "project"),
    ('mutation { executePlugin(input: {plugin: "acme.coverage_gate", evidenceLimit: 0}) '
     "{ errors { field message } } }", "evidenceLimit"),
    ('mutation { executePlugin(input: {plugin: "acme.coverage_gate", evidence: {}}) '
     "{ errors { field message } } }", "evidence"),
    ('{ plugins(first: 0) { totalCount } }', "BAD_USER_INPUT"),
    (f'{{ plugin(id: "{LONG_ID}") {{ name }} }}', "BAD_USER_INPUT"),
    (f'{{ plugins(search: "{"x" * 201}") {{ totalCount }} }}', "BAD_USER_INPUT"),
    (f'{{ plugins(author: "{"x" * 256}") {{ totalCount }} }}', "BAD_USER_INPUT"),
    (f'{{ pluginExecutions(plugin: "{LONG_ID}") {{ nodes {{ id }} }} }}', "BAD_USER_INPUT"),
    ('{ plugins(after: "bm9wZQ==") { totalCount } }', "BAD_USER_INPUT"),
    ('{ pluginExecutions(first: 1000) { nodes { id } } }', "BAD_USER_INPUT"),
])
async def test_refusals_are_coded_and_write_nothing(
    gql: GraphQLClient, document: str, expected: str
):
    await register(gql, permissions=())
    versions = await PluginVersion.all().count()
    body = await gql(document)
    if expected.isupper():
        found = codes(body) or [e["code"] for payload in (body.get("data") or {}).values()
                                for e in (payload or {}).get("errors", [])]
        assert expected in found, body
    else:
        payload = next(iter(body["data"].values()))
        problems = payload.get("errors") or payload.get("problems")
        assert any(p["field"].startswith(expected) for p in problems), body
        assert all(len(p["message"]) > 10 for p in problems)
    assert "INTERNAL_SERVER_ERROR" not in codes(body)
    assert await PluginVersion.all().count() == versions
    assert await PluginExecution.all().count() == 0


async def test_oversized_code_is_refused_before_the_sandbox(gql: GraphQLClient, app):
    from plugin_kit import REGISTER, manifest

    from arcos.plugins.host import HOST

    host = app.app.state.services.domain_services[HOST]
    lines = "x = 1\n" * 2001
    body = await gql(REGISTER, {"input": {"manifest": manifest(), "code": lines}})
    payload = body["data"]["registerPlugin"]
    assert payload["problems"][0]["code"] == "TOO_LARGE"
    assert "2,000" in payload["problems"][0]["message"]
    assert host.sandbox_calls == 0
    assert await PluginVersion.all().count() == 0


async def test_hostile_source_is_refused_by_the_checker_in_the_sandbox(gql: GraphQLClient):
    from plugin_kit import VALIDATE, manifest

    nested = "def collect():\n    return " + "(" * 60_000 + ")" * 60_000 + "\n"
    report = (await gql(VALIDATE, {"input": {"manifest": manifest(), "code": nested}}))[
        "data"]["validatePlugin"]
    assert report["valid"] is False and report["problems"][0]["field"] == "code"
    # The server is unharmed and answers.
    assert (await gql("{ plugins { totalCount } }"))["data"]["plugins"]["totalCount"] == 0
