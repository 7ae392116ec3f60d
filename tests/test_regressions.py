"""Holes an independent review found (each reproduced first), kept closed."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from conftest import running_app, start_server, stop_server

from arcos.evidence.drafts import EvidenceDraft
from arcos.evidence.service import submit_evidence, submit_evidence_batch
from arcos.store.write_context import WriteContext

SUBMIT = ('mutation($i: SubmitEvidenceInput!) { submitEvidence(input: $i) { evidence { id '
          "project { slug evidence { nodes { data } } } } errors { code } } }")


def codes(body: dict) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


async def test_write_only_tokens_cannot_read_other_evidence_through_payloads(app, client):
    await client.post("/api/v1/evidence", json={"type": "secret", "source": "a",
                                                "project": "github.com/a/b",
                                                "data": {"password": "hunter2"}})
    writer = await app.issue("writer-only", "evidence:write")
    async with app.client(writer) as http:
        body = (await http.post("/graphql", json={"query": SUBMIT, "variables": {"i": {
            "type": "x", "source": "y", "project": "github.com/a/b", "data": {}}}})).json()
    assert "hunter2" not in json.dumps(body)
    assert set(codes(body)) == {"FORBIDDEN"}
    stored = body["data"]["submitEvidence"]["evidence"]
    assert stored["id"] and stored["project"] is None  # the write itself went through


async def test_api_tokens_cannot_forge_scm_deliveries(app):
    deliverer = await app.issue("ci-deliverer", "webhooks:deliver")
    forged = ('mutation { ingestWebhookDelivery(input: {provider: GITHUB, event: "push", '
              'dedupeKey: "forged", body: "{}"}) { duplicate } }')
    own = ('mutation { ingestWebhookDelivery(input: {provider: CICD, event: "build", '
           'dedupeKey: "job:1", body: "{}"}) { delivery { dedupeKey } errors { code } } }')
    async with app.client(deliverer) as http:
        assert codes((await http.post("/graphql", json={"query": forged})).json()) == [
            "FORBIDDEN"]
        result = (await http.post("/graphql", json={"query": own})).json()
    assert result["data"]["ingestWebhookDelivery"]["delivery"]["dedupeKey"] == (
        "ci-deliverer/job:1")


@pytest.mark.parametrize("timestamp", ["\u00b2", "9" * 5000, "-1", ""])
async def test_gitlab_hostile_timestamps_are_401(settings, timestamp):
    async with running_app(settings.replace(gitlab_webhook_signing_key="whsec_" + "a" * 44)) as app:
        async with app.client() as http:
            response = await http.post(
                "/api/webhooks/gitlab", content=b"{}",
                headers={"content-type": "application/json", "x-gitlab-event": "Push Hook",
                         "webhook-id": "m", "webhook-timestamp": timestamp.encode("latin-1"),
                         "webhook-signature": "v1,AAAA"},
            )
    assert response.status_code == 401


@pytest.mark.parametrize(
    "overrides",
    [{"data": {"a": "\ud800"}}, {"data": {"a": "nul\u0000"}}, {"ref": "\udc00"},
     {"idempotencyKey": "k\u0000"}, {"data": {"\ud83d": 1}}],
)
async def test_unstorable_text_is_refused_not_a_500(client, overrides):
    body = json.dumps({"type": "build", "source": "ci", "data": {}, **overrides},
                      ensure_ascii=True)
    response = await client.post("/api/v1/evidence", content=body,
                                 headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "INVALID"


async def test_unstorable_filters_are_bad_input(client):
    async def ask(query: str, variables: dict) -> dict:
        body = json.dumps({"query": query, "variables": variables}, ensure_ascii=True)
        response = await client.post("/graphql", content=body,
                                      headers={"content-type": "application/json"})
        return response.json()

    result = await ask("query($t: String) { evidenceList(type: $t) { id } }", {"t": "a\u0000"})
    assert codes(result) == ["BAD_USER_INPUT"]
    lookup = await ask("query($s: String!) { project(slug: $s) { slug } }", {"s": "\ud800"})
    assert lookup == {"data": {"project": None}}


async def test_huge_cursor_positions_are_bad_input(client, gql):
    import base64

    cursor = base64.urlsafe_b64encode(b"evidence:" + b"9" * 30).decode()
    result = await gql("query($a: String) { evidenceConnection(after: $a) { totalCount } }",
                       {"a": cursor})
    assert codes(result) == ["BAD_USER_INPUT"]
    assert (await client.get("/api/v3/evidence", params={"after": cursor})).status_code == 400
    stream = await client.get("/api/v3/evidence/stream", headers={"last-event-id": cursor})
    assert stream.status_code == 400


async def test_numeric_ids_out_of_range_are_refused_cleanly(client, gql):
    revoke = await gql('mutation { revokeApiToken(input: {token: "\u00b2"}) { errors { code } } }')
    assert revoke["data"]["revokeApiToken"]["errors"] == [{"code": "NOT_FOUND"}]
    huge = await gql('mutation { revokeApiToken(input: {token: "99999999999999999999999"}) '
                     "{ errors { code } } }")
    assert huge["data"]["revokeApiToken"]["errors"] == [{"code": "NOT_FOUND"}]
    reprocess = await gql('mutation { reprocessWebhookDelivery(input: {deliveryId: "\u00b2"}) '
                          "{ errors { code } } }")
    assert codes(reprocess) == ["BAD_USER_INPUT"]
    number = await client.post("/graphql", content=b'{"query": "{ viewer { name } }", "x": '
                               + b"9" * 5000 + b"}", headers={"content-type": "application/json"})
    assert number.status_code == 400


async def test_token_names_cannot_look_like_ids(gql):
    result = await gql('mutation { createApiToken(input: {name: "2", scopes: ["admin"]}) '
                       "{ token errors { field } } }")
    assert result["data"]["createApiToken"]["errors"] == [{"field": "name"}]


async def test_retry_racing_a_mixed_batch_stores_everything(app):
    state = app.app.state
    write = WriteContext("racer", state.settings.replace(max_batch_items=10), state.writer)
    keyed = EvidenceDraft(type="a", source="b", data={"n": 1}, idempotency_key="k")
    for round_number in range(10):
        key = f"k{round_number}"
        keyed = EvidenceDraft(type="a", source="b", data={"n": 1}, idempotency_key=key)
        plain = EvidenceDraft(type="b", source="b", data={"n": round_number})
        single, batch = await asyncio.gather(
            submit_evidence(keyed, write),
            submit_evidence_batch([keyed, plain], write),
        )
        assert batch[0].evidence.uid == single.evidence.uid
        assert batch[1].evidence.type == "b"
    async with app.client(app.admin_token) as http:
        total = (await http.get("/api/v3/evidence")).json()["totalCount"]
    assert total == 20


def test_large_documents_are_not_cached():
    from arcos.graphql.limits import MAX_CACHED_DOCUMENT_CHARS, _cached_parse

    before = _cached_parse.cache_info().currsize
    from arcos.schema import create_schema
    from arcos.settings import Settings

    schema = create_schema(Settings())
    big = '{ evidence(id: "' + "A" * (MAX_CACHED_DOCUMENT_CHARS + 10) + '") { id } }'
    asyncio.run(schema.execute(big))
    assert _cached_parse.cache_info().currsize == before


async def test_revoked_token_stops_working_on_an_open_websocket(tmp_path):
    from websockets.asyncio.client import connect

    server = start_server(f"sqlite://{tmp_path / 'ws.db'}", tmp_path / "ws.log",
                          extra_env={"ARCOS_AUTH_RECHECK_SECONDS": "0.2"})
    try:
        async with httpx.AsyncClient(headers=server.auth_headers) as http:
            made = await http.post(f"{server.http_url}/graphql", json={"query": (
                'mutation { createApiToken(input: {name: "victim", scopes: ["admin"]}) '
                "{ token } }")})
        victim = made.json()["data"]["createApiToken"]["token"]
        async with connect(server.ws_url, subprotocols=["graphql-transport-ws"]) as socket:
            await socket.send(json.dumps({"type": "connection_init",
                                          "payload": {"authorization": f"Bearer {victim}",
                                                      "unused": ""}}))
            assert json.loads(await socket.recv())["type"] == "connection_ack"
            async with httpx.AsyncClient(headers=server.auth_headers) as http:
                await http.post(f"{server.http_url}/graphql", json={"query": (
                    'mutation { revokeApiToken(input: {token: "victim"}) { errors { code } } }')})
            await asyncio.sleep(0.3)
            await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
                "query": 'mutation { createApiToken(input: {name: "persist", '
                         'scopes: ["admin"]}) { token } }'}}))
            message = json.loads(await asyncio.wait_for(socket.recv(), 10))
        assert message["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert message["payload"]["data"] is None
    finally:
        stop_server(server)


async def test_empty_authorization_in_connection_init_does_not_hide_the_header(tmp_path):
    from websockets.asyncio.client import connect

    server = start_server(f"sqlite://{tmp_path / 'ws2.db'}", tmp_path / "ws2.log")
    try:
        async with connect(server.ws_url, subprotocols=["graphql-transport-ws"],
                           additional_headers=server.auth_headers) as socket:
            await socket.send(json.dumps({"type": "connection_init",
                                          "payload": {"authorization": ""}}))
            assert json.loads(await socket.recv())["type"] == "connection_ack"
            await socket.send(json.dumps({"id": "1", "type": "subscribe",
                                          "payload": {"query": "{ viewer { name } }"}}))
            message = json.loads(await asyncio.wait_for(socket.recv(), 10))
        assert message["payload"]["data"]["viewer"]["name"].startswith("admin-")
    finally:
        stop_server(server)
