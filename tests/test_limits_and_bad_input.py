"""Every documented limit and every kind of malformed request: a clear 4xx or coded error."""

from __future__ import annotations

import json

import httpx
import pytest
from conftest import running_app

from arcos.settings import Settings


def codes(result: dict) -> list[str]:
    return [error["extensions"]["code"] for error in result.get("errors", [])]


@pytest.fixture
def sqlite_settings(tmp_path):
    return Settings(database_url=f"sqlite://{tmp_path / 'limits.db'}")


@pytest.fixture
async def limited(sqlite_settings):
    """A client on a server with small limits, so each can be crossed cheaply."""
    settings = sqlite_settings.replace(
        max_query_depth=4, max_aliases=3, max_tokens=200, max_query_cost=300,
        max_body_bytes=4096, max_page_size=20, max_batch_items=3,
    )
    async with running_app(settings) as running, running.client(running.admin_token) as http:
        yield http


async def post(http: httpx.AsyncClient, query: str, variables: dict | None = None) -> dict:
    response = await http.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    return response.json()


async def test_depth_limit(limited):
    deep = "{ evidenceConnection { edges { node { relations { from { relations { to { id } } } } } } } }"
    result = await post(limited, deep)
    assert "GRAPHQL_VALIDATION_FAILED" in codes(result)
    assert any("depth" in error["message"] for error in result["errors"])


async def test_alias_limit(limited):
    result = await post(limited, "{ a: projects { nodes { slug } } b: projects { nodes { slug } } "
                                 "c: projects { nodes { slug } } d: projects { nodes { slug } } }")
    assert codes(result) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "aliases" in result["errors"][0]["message"].lower()


async def test_token_limit(limited):
    fields = " ".join("__typename" for _ in range(300))
    result = await post(limited, "{ " + fields + " }")
    assert codes(result) == ["GRAPHQL_PARSE_FAILED"]
    assert "token" in result["errors"][0]["message"].lower()


async def test_cost_limit(limited):
    result = await post(limited, "{ evidenceList(limit: 20) { id relations { from { id } to { id } } } }")
    assert codes(result) == ["QUERY_TOO_COMPLEX"]
    assert "limit of 300" in result["errors"][0]["message"]
    cheap = await post(limited, "{ evidenceList(limit: 2) { id } }")
    assert cheap == {"data": {"evidenceList": []}}


async def test_cost_counts_fragments_and_variables(limited):
    query = """query($n: Int!) { evidenceList(limit: $n) { ...F } }
               fragment F on Evidence { id relations { from { id type source } } }"""
    result = await post(limited, query, {"n": 1})
    assert codes(result) == ["QUERY_TOO_COMPLEX"]


async def test_page_size_cap(limited):
    result = await post(limited, "{ evidenceConnection(first: 21) { totalCount } }")
    assert codes(result) == ["BAD_USER_INPUT"]
    assert "between 1 and 20" in result["errors"][0]["message"]


async def test_body_size_limit_with_and_without_content_length(limited):
    big = json.dumps({"query": "{ __typename }", "variables": {"x": "a" * 5000}})
    response = await limited.post(
        "/graphql", content=big, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert "4096-byte limit" in response.json()["errors"][0]["message"]

    async def chunks():
        for _ in range(10):
            yield b"x" * 1000

    response = await limited.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


async def test_batch_limit(limited):
    items = [{"type": "a", "source": "b", "data": {}} for _ in range(4)]
    result = await post(
        limited,
        "mutation($i: SubmitEvidenceBatchInput!) { submitEvidenceBatch(input: $i) "
        "{ errors { field code message } } }",
        {"i": {"items": items}},
    )
    errors = result["data"]["submitEvidenceBatch"]["errors"]
    assert errors == [{"field": "items", "code": "LIMIT_EXCEEDED",
                       "message": "a batch holds at most 3 items (got 4); split it"}]


@pytest.mark.parametrize(
    ("content_type", "body", "status", "code", "fragment"),
    [
        ("application/json", b"{not json", 400, "BAD_REQUEST", "JSON"),
        ("application/json", b'"just a string"', 400, "BAD_REQUEST", "JSON object"),
        ("application/json", b"[" * 50000 + b"]" * 50000, 400, "BAD_REQUEST", "nested"),
        ("application/json", b"\xff\xfe{}", 400, "BAD_REQUEST", ""),
        ("application/json", b'{"query": 5}', 400, "BAD_REQUEST", "query"),
        ("application/json", b'{"query": "{ __typename }", "variables": [1]}', 400,
         "BAD_REQUEST", "variables"),
        ("application/json", b"{}", 400, "BAD_REQUEST", "query"),
        ("text/plain", b'{"query": "{ __typename }"}', 415, "UNSUPPORTED_MEDIA_TYPE",
         "application/json"),
        ("", b'{"query": "{ __typename }"}', 415, "UNSUPPORTED_MEDIA_TYPE", "none"),
        ("application/x-www-form-urlencoded", b"query=x", 415, "UNSUPPORTED_MEDIA_TYPE", ""),
    ],
)
async def test_malformed_requests_get_clear_4xx(
    client, content_type, body, status, code, fragment
):
    headers = {"content-type": content_type} if content_type else {}
    response = await client.post("/graphql", content=body, headers=headers)
    assert response.status_code == status, response.text
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == code
    assert fragment in error["message"]


async def test_mutation_over_get_is_405(client):
    response = await client.get(
        "/graphql",
        params={"query": 'mutation { submitEvidence(input: {type: "a", source: "b", data: {}}) '
                         "{ replayed } }"},
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert "POST" in response.json()["errors"][0]["message"]
    listing = await client.post("/graphql", json={"query": "{ evidenceConnection { totalCount } }"})
    assert listing.json()["data"]["evidenceConnection"]["totalCount"] == 0


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_subscriptions_over_plain_http_are_refused_with_a_pointer(client, method):
    query = "subscription Watch { evidenceAdded { id } }"
    if method == "GET":
        response = await client.get("/graphql", params={"query": query})
    else:
        response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 400, response.text
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "graphql-transport-ws" in error["message"]
    # The pointer names no domain's route, only where the stream routes are listed; and
    # that list has them.
    assert "/api/openapi.json" in error["message"] and "/api/v3/" not in error["message"]
    paths = (await client.get("/api/openapi.json")).json()["paths"]
    assert any("text/event-stream" in json.dumps(path) for path in paths.values())
    # The operation name picks the operation: a query beside a subscription still runs.
    both = "query Count { evidenceConnection { totalCount } } " + query
    response = await client.post("/graphql", json={"query": both, "operationName": "Count"})
    assert response.json()["data"]["evidenceConnection"]["totalCount"] == 0


async def test_a_request_without_a_query_says_so(client):
    response = await client.post("/graphql", json={"variables": {}})
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == (
        'the request has no `query`; send {"query": "..."}'
    )


async def test_other_methods_are_405(client):
    response = await client.put("/graphql", json={"query": "{ __typename }"})
    assert response.status_code == 405


async def test_query_over_get_works(client):
    response = await client.get("/graphql", params={"query": "{ evidenceList { id } }"})
    assert response.status_code == 200
    assert response.json() == {"data": {"evidenceList": []}}


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ("{ evidenceList { id ", None, "GRAPHQL_PARSE_FAILED"),
        ("{ noSuchField }", None, "GRAPHQL_VALIDATION_FAILED"),
        ("query($n: Int!) { evidenceList(limit: $n) { id } }", {"n": "ten"}, "BAD_USER_INPUT"),
        ("query($n: Int!) { evidenceList(limit: $n) { id } }", {}, "BAD_USER_INPUT"),
        ("{ node(id: \"%%%\") { id } }", None, "BAD_USER_INPUT"),
        ("{ evidence(id: 5) { id } }", None, "BAD_USER_INPUT"),
        ("{ evidence(id: true) { id } }", None, "GRAPHQL_VALIDATION_FAILED"),
    ],
)
async def test_invalid_graphql_gets_a_coded_error(gql, query, variables, code):
    result = await gql(query, variables)
    assert code in codes(result), result


async def test_deeply_nested_literal_is_a_parse_error_not_a_crash(client):
    nested = "{a:" * 600 + "1" + "}" * 600
    query = 'mutation { submitEvidence(input: {type: "a", source: "b", data: ' + nested + "}) { replayed } }"
    response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 200
    result = response.json()
    assert codes(result)[0] in {"GRAPHQL_PARSE_FAILED"}


async def test_wrong_variable_type_for_data_is_refused_in_payload(gql):
    result = await gql(
        "mutation($d: JSON!) { submitEvidence(input: {type: \"a\", source: \"b\", data: $d}) "
        "{ errors { field code } } }",
        {"d": [1, 2, 3]},
    )
    assert result["data"]["submitEvidence"]["errors"] == [{"field": "data", "code": "INVALID"}]


async def test_unexpected_errors_are_masked(gql, monkeypatch):
    from arcos.evidence import service

    async def broken(*args, **kwargs):
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(service, "list_evidence", broken)
    result = await gql("{ evidenceList { id } }")
    assert result["errors"][0]["message"] == "Unexpected error."
    assert codes(result) == ["INTERNAL_SERVER_ERROR"]
    assert "hunter2" not in json.dumps(result)


async def test_production_setting_turns_off_graphiql_and_introspection(sqlite_settings):
    settings = sqlite_settings.replace(expose_schema=False)
    async with running_app(settings) as running, running.client(running.admin_token) as http:
        page = await http.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 404
        result = await post(http, "{ __schema { types { name } } }")
        assert set(codes(result)) == {"GRAPHQL_VALIDATION_FAILED"}
        assert "introspection" in result["errors"][0]["message"].lower()
        suggestion = await post(http, "{ evidenceLis { id } }")
        assert "Did you mean" not in suggestion["errors"][0]["message"]
        assert (await post(http, "{ evidenceList { id } }")) == {"data": {"evidenceList": []}}


async def test_development_default_serves_graphiql_and_introspection(client, gql):
    page = await client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    result = await gql("{ __schema { queryType { name } } }")
    assert result == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


async def test_graphiql_introspection_query_fits_the_limits(gql):
    from graphql import get_introspection_query

    result = await gql(get_introspection_query(descriptions=True))
    assert "errors" not in result
    assert result["data"]["__schema"]["queryType"]["name"] == "Query"
