"""REST v1/v2/v3 and the original routes, as thin adapters over the schema."""

from __future__ import annotations

import csv
import io
import json

import httpx
import pytest
from conftest import issue_token_with_cli, start_server, stop_server

from arcos.domains import REGISTRY
from arcos.graphql.core_schema import core_schema
from arcos.rest.operations import OperationDocumentError, load_operations

ITEM = {"type": "test_results", "source": "pytest", "data": {"passed": 3},
        "project": "github.com/acme/app", "commitSha": "abcdef1"}


async def post(client, path, body, **headers):
    return await client.post(path, json=body, headers=headers)


async def test_v1_submit_and_get(client):
    created = await post(client, "/api/v1/evidence", ITEM)
    assert created.status_code == 201, created.text
    assert created.headers["api-version"] == "v1"
    evidence = created.json()
    assert evidence["type"] == "test_results" and evidence["project"] == {
        "slug": "github.com/acme/app"
    }
    fetched = await client.get(f"/api/v1/evidence/{evidence['id']}")
    assert fetched.status_code == 200 and fetched.json() == evidence


async def test_idempotency_key_header_replays(client):
    first = await post(client, "/api/v1/evidence", ITEM, **{"Idempotency-Key": "ci-77"})
    again = await post(client, "/api/v1/evidence", ITEM, **{"Idempotency-Key": "ci-77"})
    assert first.json()["id"] == again.json()["id"]
    listing = await client.get("/api/v3/evidence")
    assert listing.json()["totalCount"] == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({**ITEM, "data": [1]}, 422, "INVALID"),
        ({**ITEM, "type": ""}, 422, "REQUIRED"),
        ({**ITEM, "unknownField": 1}, 400, "BAD_USER_INPUT"),
        ({"type": "a"}, 400, "BAD_USER_INPUT"),
        ({**ITEM, "data": "x" * 10}, 422, "INVALID"),
    ],
)
async def test_v1_refusals_say_what_to_fix(client, body, status, code):
    response = await post(client, "/api/v1/evidence", body)
    assert response.status_code == status, response.text
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == code and error["message"]
    assert (await client.get("/api/v3/evidence")).json()["totalCount"] == 0


async def test_transport_refusals(client):
    wrong_type = await client.post("/api/v1/evidence", content=b"{}",
                                   headers={"content-type": "text/plain"})
    assert wrong_type.status_code == 415
    malformed = await client.post("/api/v1/evidence", content=b"{oops",
                                  headers={"content-type": "application/json"})
    assert malformed.status_code == 400 and "not valid JSON" in malformed.json()["errors"][0][
        "message"]
    not_object = await client.post("/api/v1/evidence", content=b"[1]",
                                   headers={"content-type": "application/json"})
    assert not_object.status_code == 400
    deep = await client.post("/api/v1/evidence", content=b"[" * 100000 + b"]" * 100000,
                             headers={"content-type": "application/json"})
    assert deep.status_code == 400
    bad_id = await client.get("/api/v1/evidence/not-an-id")
    assert bad_id.status_code == 404  # an id that cannot exist names no evidence
    missing = await client.get("/api/v1/evidence/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404 and missing.json()["errors"][0]["extensions"]["code"] == (
        "NOT_FOUND")
    wrong_method = await client.delete("/api/v1/evidence/x")
    assert wrong_method.status_code == 405


async def test_oversized_body_is_413(tmp_path):
    from conftest import running_app

    from arcos.settings import Settings

    settings = Settings(database_url=f"sqlite://{tmp_path / 'big.db'}", max_body_bytes=2048)
    async with running_app(settings) as app, app.client(app.admin_token) as http:
        response = await post(http, "/api/v1/evidence", {**ITEM, "data": {"x": "y" * 4096}})
        assert response.status_code == 413
        assert (await http.get("/api/v3/evidence")).json()["totalCount"] == 0


async def test_authentication_and_scopes_map_to_401_403_429(app, anonymous_client, tmp_path):
    anonymous = await post(anonymous_client, "/api/v1/evidence", ITEM)
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    bad = await anonymous_client.get("/api/v3/evidence",
                                     headers={"authorization": "Bearer arcos_" + "z" * 43})
    assert bad.status_code == 401
    reader = await app.issue("rest-reader", "evidence:read")
    async with app.client(reader) as http:
        forbidden = await post(http, "/api/v1/evidence", ITEM)
        assert forbidden.status_code == 403
        assert "evidence:write" in forbidden.json()["errors"][0]["message"]
        assert (await http.get("/api/v3/evidence")).status_code == 200

    from conftest import running_app

    from arcos.settings import Settings

    settings = Settings(database_url=f"sqlite://{tmp_path / 'rl.db'}", write_burst=1,
                        write_rate_per_minute=1)
    async with running_app(settings) as limited, limited.client(limited.admin_token) as http:
        assert (await post(http, "/api/v1/evidence", ITEM)).status_code == 201
        throttled = await post(http, "/api/v1/evidence", ITEM)
        assert throttled.status_code == 429
        assert int(throttled.headers["retry-after"]) >= 1


async def test_v2_batch_is_all_or_nothing(client):
    good = await post(client, "/api/v2/evidence/batch", {"items": [ITEM, {**ITEM, "type": "b"}]})
    assert good.status_code == 201 and good.headers["api-version"] == "v2"
    assert len(good.json()["ids"]) == 2 and len(good.json()["evidence"]) == 2
    bad = await post(client, "/api/v2/evidence/batch",
                     {"items": [ITEM, {**ITEM, "data": 5}, {**ITEM, "source": "Bad Source"}]})
    assert bad.status_code == 422
    fields = [e["extensions"]["field"] for e in bad.json()["errors"]]
    assert fields == ["items.1.data", "items.2.source"]
    assert (await client.get("/api/v3/evidence")).json()["totalCount"] == 2


async def test_v2_get_includes_relations(client, gql):
    one = (await post(client, "/api/v2/evidence", ITEM)).json()["id"]
    two = (await post(client, "/api/v2/evidence", {**ITEM, "type": "metric"})).json()["id"]
    await gql("mutation($a: ID!, $b: ID!) { linkEvidence(input: {from: $a, to: $b, "
              "relation: DERIVED_FROM}) { errors { code } } }", {"a": two, "b": one})
    fetched = await client.get(f"/api/v2/evidence/{one}", params={"include_relations": "true"})
    relations = fetched.json()["relations"]
    assert relations[0]["relation"] == "DERIVED_FROM" and relations[0]["from"]["id"] == two


async def test_v3_filters_pages_and_formats(client):
    for index in range(5):
        await post(client, "/api/v1/evidence", {**ITEM, "type": "build" if index % 2 else "test",
                                                "data": {"n": index, "note": "=HYPERLINK()"}})
    page = await client.get("/api/v3/evidence", params={"type": "test", "first": 2})
    body = page.json()
    assert page.headers["api-version"] == "v3"
    assert body["totalCount"] == 3 and len(body["items"]) == 2 and body["nextCursor"]
    rest = await client.get("/api/v3/evidence", params={"type": "test", "after": body["nextCursor"]})
    assert [i["data"]["n"] for i in rest.json()["items"]] == [4] and rest.json()["nextCursor"] is None
    newest = await client.get("/api/v3/evidence", params={"order": "desc", "first": 1})
    assert newest.json()["items"][0]["data"]["n"] == 4

    ndjson = await client.get("/api/v3/evidence", params={"format": "ndjson"})
    assert ndjson.headers["content-type"].startswith("application/x-ndjson")
    lines = ndjson.text.strip().split("\n")
    assert [json.loads(line)["data"]["n"] for line in lines] == [0, 1, 2, 3, 4]
    negotiated = await client.get("/api/v3/evidence", headers={"accept": "text/csv"})
    rows = list(csv.DictReader(io.StringIO(negotiated.text)))
    assert len(rows) == 5 and rows[0]["project"] == "github.com/acme/app"
    assert json.loads(rows[0]["data"]) == {"n": 0, "note": "=HYPERLINK()"}
    item_id = lines[0] and json.loads(lines[0])["id"]
    single = await client.get(f"/api/v3/evidence/{item_id}", params={"format": "csv"})
    assert len(list(csv.DictReader(io.StringIO(single.text)))) == 1

    for params in ({"first": "x"}, {"first": "500"}, {"after": "garbage"},
                   {"since": "yesterday"}, {"format": "xml"}, {"order": "sideways"}):
        refused = await client.get("/api/v3/evidence", params=params)
        assert refused.status_code == 400, params


async def test_legacy_routes_keep_the_original_envelope(client):
    created = await post(client, "/api/evidence/custom",
                         {"type": "custom", "source": "legacy", "data": {"a": 1},
                          "commit_sha": "ABCDEF1"})
    assert created.status_code == 201
    body = created.json()
    assert body["success"] is True and body["evidence_id"] == body["evidence"]["id"]
    assert body["evidence"]["commitSha"] == "abcdef1"
    batch = await post(client, "/api/evidence/batch", {"evidence": [ITEM, ITEM]})
    assert batch.status_code == 201 and batch.json()["count"] == 2
    listing = await client.get("/api/evidence/list", params={"limit": 2, "offset": 1})
    assert listing.json()["success"] is True and listing.json()["count"] == 2
    one = await client.get(f"/api/evidence/{body['evidence_id']}")
    assert one.json() == {"success": True, "evidence": body["evidence"]}
    missing = await client.get("/api/evidence/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    assert missing.json()["success"] is False and "no evidence" in missing.json()["error"]
    refused = await post(client, "/api/evidence/custom", {"type": "x", "source": "y", "data": 1})
    assert refused.status_code == 422 and refused.json()["success"] is False


async def test_graphql_alias_and_schema_routes(client):
    alias = await client.post("/api/graphql", json={"query": "{ viewer { name } }"})
    assert alias.json() == {"data": {"viewer": {"name": "test-admin"}}}
    sdl = await client.get("/api/graphql/schema")
    assert sdl.headers["content-type"].startswith("application/graphql")
    assert "submitEvidence(input: SubmitEvidenceInput!)" in sdl.text
    introspection = await client.get("/api/graphql/schema", params={"format": "json"})
    assert introspection.json()["data"]["__schema"]["queryType"]["name"] == "Query"
    assert (await client.get("/api/graphql/schema", params={"format": "xml"})).status_code == 400


async def test_documentation_is_generated_from_the_table(client):
    docs = (await client.get("/api/ecosystem/documentation")).json()
    listed = {(r["method"], r["path"]) for r in docs["rest"]["routes"]}
    assert {(r.method, r.path) for r in REGISTRY.rest_routes} <= listed
    assert ("GET", "/api/v3/evidence/stream") in listed
    assert {v["version"]: v["status"] for v in docs["rest"]["versions"]}["v3"] == "beta"
    assert docs["graphql"]["subscriptions"]["protocols"] == ["graphql-transport-ws", "graphql-ws"]


async def test_openapi_is_valid_3_1_and_covers_every_route(client):
    from openapi_spec_validator import validate

    document = (await client.get("/api/openapi.json")).json()
    validate(document)
    assert document["openapi"] == "3.1.0"
    for route in REGISTRY.rest_routes:
        operation = document["paths"][route.path][route.method.lower()]
        assert str(route.shape.status) in operation["responses"]
    submit = document["paths"]["/api/v1/evidence"]["post"]
    body = submit["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["type", "source", "data"]
    created = submit["responses"]["201"]["content"]["application/json"]["schema"]
    assert created["properties"]["sha256"] == {"type": "string"}


def test_every_operation_validates_and_broken_ones_fail_at_start(tmp_path):
    from arcos.schema import create_schema
    from arcos.settings import Settings

    schema = core_schema(create_schema(Settings()))
    operations = load_operations(schema, REGISTRY.rest_documents)
    assert {route.operation for route in REGISTRY.rest_routes} <= set(operations)
    broken = tmp_path / "bad.graphql"
    broken.write_text("query Broken { evidenceList { noSuchField } }")
    with pytest.raises(OperationDocumentError, match="Broken does not match the schema"):
        load_operations(schema, [*REGISTRY.rest_documents, broken])


def test_operations_valid_alone_but_not_together_fail_at_start(tmp_path):
    """Validation runs over all the documents at once: two operations with one name (which
    would shadow each other in the table) fail start-up although each validates alone."""
    from arcos.schema import create_schema
    from arcos.settings import Settings

    schema = core_schema(create_schema(Settings()))
    first, second = tmp_path / "first.graphql", tmp_path / "second.graphql"
    first.write_text("query Twice { __typename }")
    second.write_text("query Twice { __typename }")
    with pytest.raises(OperationDocumentError, match="do not validate together"):
        load_operations(schema, [first, second])


@pytest.fixture
def limited_server(tmp_path):
    """A live server with small limits, so each is reached in a few requests."""
    server = start_server(
        f"sqlite://{tmp_path / 'limits.db'}", tmp_path / "limits.log",
        extra_env={"ARCOS_MAX_PAGE_SIZE": "5", "ARCOS_MAX_EVIDENCE_BYTES": "1024",
                   "ARCOS_WRITE_BURST": "3", "ARCOS_WRITE_RATE_PER_MINUTE": "1"},
    )
    try:
        yield server
    finally:
        stop_server(server)


class Both:
    """One action asked of a live server twice: through a REST route and through the
    GraphQL operation behind it; each answer is reduced to (error code, message)."""

    def __init__(self, http: httpx.AsyncClient, token: str) -> None:
        self.http = http
        self.headers = {"authorization": f"Bearer {token}"}

    async def rest(self, method: str, path: str, status: int, **options) -> tuple[str, str]:
        response = await self.http.request(method, path, headers=self.headers, **options)
        assert response.status_code == status, response.text
        if status >= 400:
            error = response.json()["errors"][0]
            return error["extensions"]["code"], error["message"]
        return "OK", ""

    async def graphql(self, query: str, variables: dict, payload: str | None = None
                      ) -> tuple[str, str]:
        response = await self.http.post("/graphql", headers=self.headers,
                                        json={"query": query, "variables": variables})
        body = response.json()
        if body.get("errors"):
            error = body["errors"][0]
            return error["extensions"]["code"], error["message"]
        refusals = body["data"][payload]["errors"] if payload else []
        if refusals:
            return refusals[0]["code"], refusals[0]["message"]
        return "OK", ""


GRAPHQL_SUBMIT = ("mutation($i: SubmitEvidenceInput!) { submitEvidence(input: $i) "
                  "{ evidence { id } errors { field message code } } }")
GRAPHQL_PAGE = "query($n: Int!) { evidenceConnection(first: $n) { totalCount } }"


async def test_rest_runs_with_the_same_limits_and_permissions_as_graphql(limited_server):
    """Scopes, the page-size and evidence-size limits and the write rate budget refuse a
    REST call exactly as they refuse the GraphQL operation behind it, on a live server;
    the rate budget is one budget, whichever door the writes come through."""
    server = limited_server
    reader = issue_token_with_cli(server.database_url, "reader", "evidence:read")
    writer = issue_token_with_cli(server.database_url, "writer", "evidence:write")
    hurried = issue_token_with_cli(server.database_url, "hurried", "evidence:write")
    async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as http:
        as_reader, as_writer, as_admin, in_a_hurry = (
            Both(http, token) for token in (reader, writer, server.token, hurried))

        cannot_write = await as_reader.rest("POST", "/api/v1/evidence", 403, json=ITEM)
        assert cannot_write[0] == "FORBIDDEN" and "evidence:write" in cannot_write[1]
        assert await as_reader.graphql(GRAPHQL_SUBMIT, {"i": ITEM}) == cannot_write
        cannot_read = await as_writer.rest("GET", "/api/v3/evidence", 403)
        assert cannot_read[0] == "FORBIDDEN" and "evidence:read" in cannot_read[1]
        assert await as_writer.graphql(GRAPHQL_PAGE, {"n": 1}) == cannot_read

        assert await as_admin.rest("GET", "/api/v3/evidence?first=5", 200) == ("OK", "")
        assert await as_admin.graphql(GRAPHQL_PAGE, {"n": 5}) == ("OK", "")
        too_long = await as_admin.rest("GET", "/api/v3/evidence?first=6", 400)
        assert too_long[0] == "BAD_USER_INPUT" and "5" in too_long[1]
        assert await as_admin.graphql(GRAPHQL_PAGE, {"n": 6}) == too_long

        big = {**ITEM, "data": {"blob": "x" * 2048}}
        too_big = await as_writer.rest("POST", "/api/v1/evidence", 422, json=big)
        assert too_big[0] == "TOO_LARGE" and "1024" in too_big[1]
        assert await as_writer.graphql(GRAPHQL_SUBMIT, {"i": big}, "submitEvidence") == too_big

        # A burst of three writes, spent through both doors; the fourth is refused by both.
        assert await in_a_hurry.graphql(GRAPHQL_SUBMIT, {"i": ITEM}, "submitEvidence") == (
            "OK", "")
        assert await in_a_hurry.rest("POST", "/api/v1/evidence", 201, json=ITEM) == ("OK", "")
        assert await in_a_hurry.graphql(GRAPHQL_SUBMIT, {"i": ITEM}, "submitEvidence") == (
            "OK", "")
        throttled = await in_a_hurry.rest("POST", "/api/v1/evidence", 429, json=ITEM)
        assert throttled[0] == "RATE_LIMITED"
        graphql_throttled = await in_a_hurry.graphql(GRAPHQL_SUBMIT, {"i": ITEM})
        assert graphql_throttled[0] == "RATE_LIMITED"


def test_a_body_schema_is_compiled_per_endpoint_and_kept_nowhere_else():
    """A row's body schema is compiled into a check its endpoint owns: two apps in one
    process share no validators, and the module keeps no cache keyed by schema."""
    from arcos.rest import body_schema
    from arcos.web.refusal import RestRefusal

    schema = {"type": "object", "properties": {"references": {"type": "array"}}}
    first, second = body_schema.BodyCheck(schema), body_schema.BodyCheck(schema)
    assert first.validator is not second.validator
    first({"references": ["x"]})
    with pytest.raises(RestRefusal) as refused:
        second({"references": "x"})
    assert refused.value.status == 400 and refused.value.message.startswith("references:")
    assert not [name for name, value in vars(body_schema).items()
                if isinstance(value, dict) and not name.startswith("__")]
