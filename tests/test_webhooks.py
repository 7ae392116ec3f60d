"""Webhook routes: signatures fail closed, deliveries dedupe, evidence reaches subscribers."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from urllib.parse import urlencode

import httpx
import pytest
from conftest import running_app, start_server, stop_server

from arcos.webhooks.signatures import hmac_sha256

GITHUB_SECRET = "It's a Secret to Everybody"
GITLAB_TOKEN = "gitlab-shared-token-0123456789"
GITLAB_KEY = "whsec_" + base64.b64encode(b"k" * 32).decode()
BITBUCKET_SECRET = "bitbucket-secret-0123456789"
CICD_TOKEN = "cicd-shared-token-0123456789"

PUSH = {
    "ref": "refs/heads/main",
    "before": "0" * 40,
    "after": "a" * 40,
    "forced": False,
    "repository": {"full_name": "Acme/App", "name": "App", "owner": {"login": "Acme"}},
    "pusher": {"name": "octocat"},
    "sender": {"login": "octocat"},
    "commits": [{"id": "a" * 40, "message": "Fix the thing\n\nbody", "timestamp":
                 "2026-11-25T10:00:00Z", "author": {"name": "Octo Cat"}}],
    "head_commit": {"id": "a" * 40, "message": "Fix the thing"},
}
GITLAB_PUSH = {
    "object_kind": "push", "event_name": "push", "before": "0" * 40, "after": "b" * 40,
    "ref": "refs/heads/main", "checkout_sha": "b" * 40, "user_username": "jsmith",
    "project": {"path_with_namespace": "Group/Project",
                "web_url": "https://gitlab.com/group/project"},
    "commits": [], "total_commits_count": 0,
}
BITBUCKET_PUSH = {
    "push": {"changes": [{"new": {"type": "branch", "name": "main",
                                   "target": {"hash": "c" * 40}},
                           "old": {"type": "branch", "name": "main",
                                   "target": {"hash": "d" * 40}},
                           "commits": []}]},
    "repository": {"full_name": "ws/repo", "name": "repo"},
    "actor": {"display_name": "A", "nickname": "a"},
}
JENKINS = {
    "name": "app-build", "url": "job/app-build/",
    "build": {"full_url": "http://ci/job/app-build/7/", "number": 7, "queue_id": 70,
              "phase": "COMPLETED", "status": "SUCCESS", "duration": 61000,
              "scm": {"url": "https://github.com/acme/app.git", "branch": "origin/main",
                      "commit": "e" * 40}},
}


def github_signature(body: bytes, secret: str = GITHUB_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def github_headers(body: bytes, event: str = "push", delivery: str | None = None,
                   secret: str = GITHUB_SECRET, **extra: str) -> dict[str, str]:
    return {
        "content-type": "application/json", "x-github-event": event,
        "x-github-delivery": delivery or str(uuid.uuid4()), "x-github-hook-id": "42",
        "x-hub-signature-256": github_signature(body, secret), **extra,
    }


def standard_signature(body: bytes, message_id: str, timestamp: int, key: str = GITLAB_KEY) -> str:
    secret = base64.b64decode(key.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac_sha256(secret, signed)).decode()


@pytest.fixture
def webhook_settings(settings):
    return settings.replace(
        github_webhook_secret=GITHUB_SECRET, github_webhook_secret_previous="older-github-secret",
        gitlab_webhook_token=GITLAB_TOKEN, gitlab_webhook_signing_key=GITLAB_KEY,
        bitbucket_webhook_secret=BITBUCKET_SECRET, cicd_webhook_token=CICD_TOKEN,
    )


@pytest.fixture
async def hooks(webhook_settings):
    async with running_app(webhook_settings) as running:
        async with running.client() as anonymous, running.client(running.admin_token) as admin:
            yield running, anonymous, admin


async def evidence_count(admin: httpx.AsyncClient) -> int:
    return (await admin.get("/api/v3/evidence")).json()["totalCount"]


async def deliveries(admin: httpx.AsyncClient) -> list[dict]:
    result = await admin.post("/graphql", json={"query": "{ webhookDeliveries { nodes { "
                              "deliveryId provider event action outcome detail dedupeKey "
                              "bodyRetained evidence { id type } } } }"})
    return result.json()["data"]["webhookDeliveries"]["nodes"]


def test_github_published_test_vector():
    assert github_signature(b"Hello, World!") == (
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    )


async def test_signed_github_push_becomes_evidence(hooks):
    _, anonymous, admin = hooks
    body = json.dumps(PUSH).encode()
    response = await anonymous.post("/api/webhooks/github", content=body,
                                    headers=github_headers(body))
    assert response.status_code == 200, response.text
    recorded = response.json()["delivery"]
    assert recorded["outcome"] == "PROCESSED" and recorded["provider"] == "github"
    item = (await admin.get("/api/v3/evidence")).json()["items"][0]
    assert item["type"] == "commit" and item["source"] == "github"
    assert item["project"]["slug"] == "github.com/acme/app"
    assert item["commitSha"] == "a" * 40 and item["ref"] == "refs/heads/main"
    assert item["submittedBy"] == "github-webhook"


async def test_form_encoded_github_delivery_is_verified_on_the_raw_body(hooks):
    _, anonymous, admin = hooks
    body = urlencode({"payload": json.dumps(PUSH)}).encode()
    headers = {**github_headers(body), "content-type": "application/x-www-form-urlencoded"}
    response = await anonymous.post("/api/webhooks/github", content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert await evidence_count(admin) == 1


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda h, b: h.pop("x-hub-signature-256"), "missing"),
        (lambda h, b: h.update({"x-hub-signature-256": github_signature(b, "wrong")}),
         "does not match"),
        (lambda h, b: h.update({"x-hub-signature-256": "sha1=" + "0" * 40}), "sha256="),
        (lambda h, b: h.update({"x-hub-signature-256": "sha256=zz"}), "sha256="),
        (lambda h, b: h.update({"x-hub-signature-256": github_signature(b + b" ")}),
         "does not match"),
    ],
    ids=["missing", "wrong-secret", "sha1", "not-hex", "body-changed"],
)
async def test_bad_github_signatures_are_401_and_store_nothing(hooks, mutate, fragment):
    _, anonymous, admin = hooks
    body = json.dumps(PUSH).encode()
    headers = github_headers(body)
    mutate(headers, body)
    response = await anonymous.post("/api/webhooks/github", content=body, headers=headers)
    assert response.status_code == 401
    assert fragment in response.json()["errors"][0]["message"]
    assert await evidence_count(admin) == 0
    assert await deliveries(admin) == []


async def test_previous_secret_is_accepted_during_rotation(hooks):
    _, anonymous, _admin = hooks
    body = json.dumps(PUSH).encode()
    response = await anonymous.post("/api/webhooks/github", content=body,
                                    headers=github_headers(body, secret="older-github-secret"))
    assert response.status_code == 200


async def test_unconfigured_provider_refuses_and_names_the_setting(settings):
    async with running_app(settings) as running, running.client() as http:
        body = json.dumps(PUSH).encode()
        response = await http.post("/api/webhooks/github", content=body,
                                   headers=github_headers(body))
        assert response.status_code == 401
        assert "ARCOS_GITHUB_WEBHOOK_SECRET" in response.json()["errors"][0]["message"]


async def test_development_setting_accepts_unsigned_deliveries_loudly(settings, caplog):
    async with running_app(settings.replace(webhook_allow_unsigned=True)) as running:
        async with running.client() as http:
            body = json.dumps(PUSH).encode()
            headers = {"content-type": "application/json", "x-github-event": "push",
                       "x-github-delivery": "d-1"}
            with caplog.at_level("WARNING", logger="arcos.webhooks"):
                response = await http.post("/api/webhooks/github", content=body, headers=headers)
            assert response.status_code == 200
            assert "UNSIGNED" in caplog.text


async def test_redelivery_returns_the_first_outcome_and_writes_nothing(hooks):
    _, anonymous, admin = hooks
    body = json.dumps(PUSH).encode()
    headers = github_headers(body, delivery="fixed-guid")
    first = await anonymous.post("/api/webhooks/github", content=body, headers=headers)
    again = await anonymous.post("/api/webhooks/github", content=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.json()["duplicate"] is True
    assert again.json()["delivery"]["deliveryId"] == first.json()["delivery"]["deliveryId"]
    assert await evidence_count(admin) == 1
    other_hook = github_headers(body, delivery="fixed-guid", **{"x-github-hook-id": "43"})
    third = await anonymous.post("/api/webhooks/github", content=body, headers=other_hook)
    assert third.json()["duplicate"] is False  # the GUID is per hook


async def test_twenty_concurrent_duplicates_make_one_record(hooks):
    _, anonymous, admin = hooks
    body = json.dumps(PUSH).encode()
    headers = github_headers(body, delivery="same-delivery")
    responses = await asyncio.gather(*(
        anonymous.post("/api/webhooks/github", content=body, headers=headers) for _ in range(20)
    ))
    assert {r.status_code for r in responses} == {200}
    assert sum(not r.json()["duplicate"] for r in responses) == 1
    assert len({r.json()["delivery"]["deliveryId"] for r in responses}) == 1
    assert await evidence_count(admin) == 1
    assert len(await deliveries(admin)) == 1


async def test_ping_is_200_and_unknown_events_are_202_recorded(hooks):
    _, anonymous, admin = hooks
    ping = json.dumps({"zen": "Keep it simple.", "hook_id": 42}).encode()
    response = await anonymous.post("/api/webhooks/github", content=ping,
                                    headers=github_headers(ping, event="ping"))
    assert response.status_code == 200 and response.json()["delivery"]["outcome"] == "PING"
    odd = json.dumps({"action": "created", "repository": {"full_name": "a/b"}}).encode()
    response = await anonymous.post("/api/webhooks/github", content=odd,
                                    headers=github_headers(odd, event="star"))
    assert response.status_code == 202
    assert response.json()["delivery"]["outcome"] == "IGNORED"
    outcomes = {(d["event"], d["outcome"]) for d in await deliveries(admin)}
    assert outcomes == {("ping", "PING"), ("star", "IGNORED")}
    assert await evidence_count(admin) == 0


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b"{not json", {}, 400),
        (b"[1, 2]", {}, 400),
        (b"\xff\xfe", {}, 400),
        (b"{}", {"x-github-event": None}, 400),
        (b"{}", {"content-type": "text/plain"}, 415),
    ],
)
async def test_malformed_deliveries_are_4xx_and_store_nothing(hooks, body, headers, status):
    _, anonymous, admin = hooks
    merged = {**github_headers(body), **headers}
    merged = {k: v for k, v in merged.items() if v is not None}
    response = await anonymous.post("/api/webhooks/github", content=body, headers=merged)
    assert response.status_code == status, response.text
    assert await deliveries(admin) == []


async def test_oversized_delivery_is_413(webhook_settings):
    settings = webhook_settings.replace(webhook_max_body_bytes=1024)
    async with running_app(settings) as running, running.client() as http:
        body = json.dumps({**PUSH, "padding": "x" * 2048}).encode()
        response = await http.post("/api/webhooks/github", content=body,
                                   headers=github_headers(body))
        assert response.status_code == 413


async def test_gitlab_token_and_signing_token(hooks):
    _, anonymous, admin = hooks
    body = json.dumps(GITLAB_PUSH).encode()
    base = {"content-type": "application/json", "x-gitlab-event": "Push Hook"}
    good = await anonymous.post("/api/webhooks/gitlab", content=body, headers={
        **base, "x-gitlab-token": GITLAB_TOKEN, "idempotency-key": "gl-1"})
    assert good.status_code == 200, good.text
    wrong = await anonymous.post("/api/webhooks/gitlab", content=body, headers={
        **base, "x-gitlab-token": "nope", "idempotency-key": "gl-2"})
    assert wrong.status_code == 401
    missing = await anonymous.post("/api/webhooks/gitlab", content=body, headers=base)
    assert missing.status_code == 401

    now = int(time.time())
    signed = {**base, "webhook-id": "msg-1", "webhook-timestamp": str(now),
              "webhook-signature": "v1,bm9wZQ== " + standard_signature(body, "msg-1", now)}
    assert (await anonymous.post("/api/webhooks/gitlab", content=body,
                                 headers=signed)).status_code == 200
    stale = {**signed, "webhook-id": "msg-2", "webhook-timestamp": str(now - 600),
             "webhook-signature": standard_signature(body, "msg-2", now - 600)}
    response = await anonymous.post("/api/webhooks/gitlab", content=body, headers=stale)
    assert response.status_code == 401 and "5 minutes" in response.json()["errors"][0]["message"]
    forged = {**signed, "webhook-id": "msg-3",
              "webhook-signature": standard_signature(body, "msg-3", now, "whsec_" +
                                                      base64.b64encode(b"x" * 32).decode())}
    assert (await anonymous.post("/api/webhooks/gitlab", content=body,
                                 headers=forged)).status_code == 401
    items = (await admin.get("/api/v3/evidence")).json()["items"]
    assert [i["project"]["slug"] for i in items] == ["gitlab.com/group/project"] * 2


async def test_bitbucket_cloud_and_data_center(hooks):
    _, anonymous, _admin = hooks
    body = json.dumps(BITBUCKET_PUSH).encode()
    signature = "sha256=" + hmac.new(BITBUCKET_SECRET.encode(), body, hashlib.sha256).hexdigest()
    cloud = {"content-type": "application/json", "x-event-key": "repo:push",
             "x-request-uuid": str(uuid.uuid4()), "x-hub-signature": signature}
    assert (await anonymous.post("/api/webhooks/bitbucket", content=body,
                                 headers=cloud)).status_code == 200
    unsigned = {k: v for k, v in cloud.items() if k != "x-hub-signature"}
    unsigned["x-request-uuid"] = str(uuid.uuid4())
    assert (await anonymous.post("/api/webhooks/bitbucket", content=body,
                                 headers=unsigned)).status_code == 401
    ping = b'{"test": true}'
    dc = {"content-type": "application/json", "x-event-key": "diagnostics:ping",
          "x-request-id": str(uuid.uuid4()),
          "x-hub-signature": "sha256=" + hmac.new(BITBUCKET_SECRET.encode(), ping,
                                                  hashlib.sha256).hexdigest()}
    response = await anonymous.post("/api/webhooks/bitbucket", content=ping, headers=dc)
    assert response.status_code == 200 and response.json()["delivery"]["outcome"] == "PING"


async def test_cicd_accepts_the_shared_token_or_a_scoped_api_token(hooks):
    running, anonymous, admin = hooks
    body = json.dumps(JENKINS).encode()
    headers = {"content-type": "application/json"}
    shared = await anonymous.post("/api/webhooks/cicd", content=body,
                                  headers={**headers, "authorization": f"Bearer {CICD_TOKEN}"})
    assert shared.status_code == 200, shared.text
    assert (await anonymous.post("/api/webhooks/cicd", content=body,
                                 headers=headers)).status_code == 401
    deliverer = await running.issue("jenkins", "webhooks:deliver")
    reader = await running.issue("reader-only", "evidence:read")
    second = json.dumps({**JENKINS, "build": {**JENKINS["build"], "number": 8}}).encode()
    scoped = await anonymous.post("/api/webhooks/cicd", content=second,
                                  headers={**headers, "authorization": f"Bearer {deliverer}"})
    assert scoped.status_code == 200, scoped.text
    forbidden = await anonymous.post("/api/webhooks/cicd", content=second,
                                     headers={**headers, "authorization": f"Bearer {reader}"})
    assert forbidden.status_code == 403
    items = (await admin.get("/api/v3/evidence")).json()["items"]
    assert {i["submittedBy"] for i in items} == {"cicd-webhook", "jenkins"}


async def test_runtime_secret_override_by_an_admin(hooks):
    _, anonymous, admin = hooks
    new_secret = "rotated-github-secret-456"
    result = await admin.post("/graphql", json={"query": "mutation { setWebhookSecret(input: "
                              f'{{name: GITHUB_WEBHOOK_SECRET, secret: "{new_secret}"}}) '
                              "{ name previousConfigured errors { message } } }"})
    assert result.json()["data"]["setWebhookSecret"]["previousConfigured"] is True
    body = json.dumps(PUSH).encode()
    for secret in (new_secret, GITHUB_SECRET):
        response = await anonymous.post("/api/webhooks/github", content=body,
                                        headers=github_headers(body, secret=secret))
        assert response.status_code == 200, secret
    stale = await anonymous.post("/api/webhooks/github", content=body,
                                 headers=github_headers(body, secret="older-github-secret"))
    assert stale.status_code == 401


async def test_endpoints_listing_never_shows_secrets(hooks):
    _, anonymous, admin = hooks
    assert (await anonymous.get("/api/webhooks/endpoints")).status_code == 401
    listing = await admin.get("/api/webhooks/endpoints")
    assert listing.status_code == 200
    by_provider = {e["provider"]: e for e in listing.json()}
    assert set(by_provider) == {"github", "gitlab", "bitbucket", "cicd"}
    assert by_provider["github"]["secretConfigured"] is True
    assert by_provider["github"]["previousSecretConfigured"] is True
    assert {"push", "pull_request"} <= {e["event"] for e in by_provider["github"]["events"]}
    assert GITHUB_SECRET not in listing.text and CICD_TOKEN not in listing.text


async def test_reprocess_maps_a_stored_delivery_again(hooks):
    _, anonymous, admin = hooks
    body = json.dumps(PUSH).encode()
    await anonymous.post("/api/webhooks/github", content=body, headers=github_headers(body))
    delivery = (await deliveries(admin))[0]
    result = await admin.post("/graphql", json={"query": "mutation($id: ID!) { "
                              "reprocessWebhookDelivery(input: {deliveryId: $id}) { delivery { "
                              "outcome evidence { id relations { relation } } } errors { code } } }",
                              "variables": {"id": delivery["deliveryId"]}})
    payload = result.json()["data"]["reprocessWebhookDelivery"]
    assert payload["errors"] == [] and payload["delivery"]["outcome"] == "PROCESSED"
    assert payload["delivery"]["evidence"][0]["relations"][0]["relation"] == "SUPERSEDES"
    assert await evidence_count(admin) == 2
    missing = await admin.post("/graphql", json={"query": "mutation { reprocessWebhookDelivery("
                               'input: {deliveryId: "999999"}) { errors { code } } }'})
    assert missing.json()["data"]["reprocessWebhookDelivery"]["errors"][0]["code"] == "NOT_FOUND"


async def test_webhook_evidence_reaches_a_websocket_subscriber(tmp_path):
    from websockets.asyncio.client import connect

    server = start_server(f"sqlite://{tmp_path / 'ws.db'}", tmp_path / "ws.log",
                          extra_env={"ARCOS_GITHUB_WEBHOOK_SECRET": GITHUB_SECRET})
    try:
        async with connect(server.ws_url, subprotocols=["graphql-transport-ws"]) as socket:
            await socket.send(json.dumps({"type": "connection_init",
                                          "payload": {"authorization": f"Bearer {server.token}"}}))
            assert json.loads(await asyncio.wait_for(socket.recv(), 10))["type"] == "connection_ack"
            await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
                "query": "subscription { evidenceAdded(project: \"github.com/acme/app\") "
                         "{ type source commitSha } }"}}))
            await asyncio.sleep(0.3)
            body = json.dumps(PUSH).encode()
            async with httpx.AsyncClient() as http:
                response = await http.post(f"{server.http_url}/api/webhooks/github",
                                           content=body, headers=github_headers(body))
            assert response.status_code == 200
            message = json.loads(await asyncio.wait_for(socket.recv(), 10))
            assert message["type"] == "next"
            assert message["payload"]["data"]["evidenceAdded"] == {
                "type": "commit", "source": "github", "commitSha": "a" * 40}
    finally:
        stop_server(server)
