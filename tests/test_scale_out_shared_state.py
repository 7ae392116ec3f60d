"""Several real `arcos serve` instances on one PostgreSQL and one Redis behave as one
server: a token revoked through A is refused by B at the very next request, a webhook
secret dropped through A is refused by B at once, the write rate limit is one budget for
the deployment, and the same webhook delivery, idempotency key or vote written through two
instances at once is stored once (the unique indexes decide, not the instances).

The outbox followers, which would bring a revocation or secret change to B anyway, are
set to poll once an hour here, so only the shared epochs can explain B's refusal.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from conftest import LiveServer, _truncate_postgres, start_server, stop_server
from redis_server import require_shared_redis, unique_prefix
from test_webhooks import GITHUB_SECRET, PUSH, github_headers

pytestmark = pytest.mark.postgres

CREATE_TOKEN = """mutation($name: String!, $scopes: [String!]!) {
  createApiToken(input: {name: $name, scopes: $scopes}) { token errors { code message } } }"""
REVOKE = """mutation($token: String!) {
  revokeApiToken(input: {token: $token}) { apiToken { name } errors { code message } } }"""
SET_SECRET = """mutation($secret: String!) {
  setWebhookSecret(input: {name: GITHUB_WEBHOOK_SECRET, secret: $secret, keepPrevious: false})
  { name errors { code message } } }"""
SUBMIT = """mutation($i: SubmitEvidenceInput!) {
  submitEvidence(input: $i) { evidence { id } replayed errors { code message } } }"""
VIEWER = {"query": "{ viewer { name } }"}


def deployment_env(prefix: str, **extra: str) -> dict[str, str]:
    """One deployment: PostgreSQL (the store the fixture names) plus Redis under `prefix`,
    with the outbox backstops slowed to an hour."""
    return {
        "ARCOS_BROKER_URL": require_shared_redis(), "ARCOS_REDIS_KEY_PREFIX": prefix,
        "ARCOS_AUTH_REVOCATION_POLL_SECONDS": "3600",
        "ARCOS_WEBHOOK_SECRET_POLL_SECONDS": "3600",
        "ARCOS_GITHUB_WEBHOOK_SECRET": GITHUB_SECRET, **extra,
    }


def start_instances(
    database_url: str, tmp_path: Path, count: int, env: dict[str, str]
) -> list[LiveServer]:
    first = start_server(database_url, tmp_path / "instance-0.log", env)
    others = [
        start_server(database_url, tmp_path / f"instance-{i}.log", env, token=first.token)
        for i in range(1, count)
    ]
    return [first, *others]


#: The pair's deployment (its Redis key prefix), which a command run beside it joins.
PAIR_PREFIX = unique_prefix()


@pytest.fixture(scope="module")
def pair(postgres_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[
    list[LiveServer]
]:
    """Instances A and B of one deployment."""
    asyncio.run(_truncate_postgres(postgres_database))
    servers = start_instances(postgres_database, tmp_path_factory.mktemp("pair"), 2,
                              deployment_env(PAIR_PREFIX))
    try:
        yield servers
    finally:
        for server in servers:
            stop_server(server)


def graphql(server: LiveServer, body: dict, token: str | None = None, status: int = 200) -> dict:
    headers = {"authorization": f"Bearer {token or server.token}"}
    response = httpx.post(f"{server.http_url}/graphql", json=body, headers=headers, timeout=30)
    assert response.status_code == status, response.text
    return response.json()


def issue(server: LiveServer, scopes: list[str]) -> tuple[str, str]:
    name = f"t-{uuid.uuid4().hex[:10]}"
    result = graphql(server, {"query": CREATE_TOKEN,
                              "variables": {"name": name, "scopes": scopes}})
    payload = result["data"]["createApiToken"]
    assert payload["errors"] == [], payload
    return name, payload["token"]


def test_token_revoked_on_a_is_refused_on_b_at_the_next_request(pair):
    a, b = pair
    for _ in range(5):
        name, token = issue(a, ["evidence:read"])
        for _ in range(3):  # B now holds the principal in its cache
            assert graphql(b, VIEWER, token)["data"]["viewer"]["name"] == name
        revoked = graphql(a, {"query": REVOKE, "variables": {"token": name}})
        assert revoked["data"]["revokeApiToken"]["errors"] == []
        refused = graphql(b, VIEWER, token, status=401)
        assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", refused


def test_token_revoked_from_a_shell_is_refused_at_the_next_request(pair):
    """`arcos token revoke` announces through the same epoch as the instances do."""
    a, b = pair
    name, token = issue(a, ["evidence:read"])
    assert graphql(b, VIEWER, token)["data"]["viewer"]["name"] == name
    env = {**os.environ, **deployment_env(PAIR_PREFIX), "ARCOS_DATABASE_URL": b.database_url}
    revoked = subprocess.run([sys.executable, "-m", "arcos", "token", "revoke", name], env=env,
                             capture_output=True, text=True, timeout=120, check=False)
    assert revoked.returncode == 0, revoked.stderr
    refused = graphql(b, VIEWER, token, status=401)
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_webhook_secret_dropped_on_a_is_refused_on_b_at_once(pair):
    a, b = pair
    old, new = GITHUB_SECRET, f"rotated-{uuid.uuid4().hex}"

    def deliver(secret: str) -> int:
        body = json.dumps(PUSH).encode()
        return httpx.post(f"{b.http_url}/api/webhooks/github", content=body,
                          headers=github_headers(body, secret=secret), timeout=30).status_code

    assert deliver(old) == 200  # B has read (and cached) the secrets in force
    changed = graphql(a, {"query": SET_SECRET, "variables": {"secret": new}})
    assert changed["data"]["setWebhookSecret"]["errors"] == []
    try:
        assert deliver(old) == 401
        assert deliver(new) == 200
    finally:
        graphql(a, {"query": SET_SECRET, "variables": {"secret": old}})


async def test_same_delivery_to_two_instances_at_once_writes_once(pair):
    a, b = pair
    body = json.dumps(PUSH).encode()
    async with httpx.AsyncClient(timeout=60) as http:
        for _ in range(5):
            delivery = str(uuid.uuid4())
            headers = github_headers(body, delivery=delivery)
            responses = await asyncio.gather(*(
                http.post(f"{server.http_url}/api/webhooks/github", content=body,
                          headers=headers)
                for server in (a, b) for _ in range(10)
            ))
            statuses = [response.status_code for response in responses]
            assert all(200 <= status < 300 for status in statuses), statuses
            duplicates = [response.json()["duplicate"] for response in responses]
            assert duplicates.count(False) == 1, duplicates
            rows = await _fetch(a, "SELECT count(*) AS n FROM webhook_delivery "
                                   "WHERE dedupe_key LIKE $1", f"%{delivery}%")
            assert rows[0]["n"] == 1


async def at_once_on_both(
    pair: list[LiveServer], token: str, query: str, variables: dict, field: str,
    per_instance: int = 8,
) -> list[dict]:
    """The same mutation sent `per_instance` times to each instance at once; each answer's
    payload (`field`), every one a success without errors."""
    async with httpx.AsyncClient(timeout=60,
                                 headers={"authorization": f"Bearer {token}"}) as http:
        responses = await asyncio.gather(*(
            http.post(f"{server.http_url}/graphql",
                      json={"query": query, "variables": variables})
            for server in pair for _ in range(per_instance)
        ))
    payloads = []
    for response in responses:
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        payloads.append(body["data"][field])
    assert all(payload["errors"] == [] for payload in payloads), payloads
    return payloads


async def test_same_idempotency_key_on_two_instances_at_once_writes_once(pair):
    a = pair[0]
    _, token = issue(a, ["evidence:write", "evidence:read"])
    key = f"run-{uuid.uuid4().hex}"
    item = {"type": "test_results", "source": "pytest", "data": {"passed": 1},
            "idempotencyKey": key}
    payloads = await at_once_on_both(pair, token, SUBMIT, {"i": item}, "submitEvidence")
    assert len({payload["evidence"]["id"] for payload in payloads}) == 1
    assert [payload["replayed"] for payload in payloads].count(False) == 1
    rows = await _fetch(a, "SELECT count(*) AS n FROM evidence WHERE idempotency_key = $1", key)
    assert rows[0]["n"] == 1


ADD_PRACTICE = """mutation($input: AddPracticeInput!) {
  addPractice(input: $input) { practice { id } errors { code message } } }"""
UPVOTE = """mutation($id: String!) {
  upvotePractice(id: $id) { practice { upvotes } changed errors { code message } } }"""


def person(server: LiveServer, principal: str, scopes: list[str]) -> str:
    """A token of a new person `principal`."""
    result = graphql(server, {"query": """mutation($i: CreateApiTokenInput!) {
        createApiToken(input: $i) { token errors { code message } } }""", "variables": {"i": {
        "name": f"{principal}-token", "scopes": scopes, "principal": principal,
        "principalKind": "PERSON"}}})
    payload = result["data"]["createApiToken"]
    assert payload["errors"] == [], payload
    return payload["token"]


async def test_same_vote_on_two_instances_at_once_counts_once(pair):
    a = pair[0]
    suffix = uuid.uuid4().hex[:8]
    author = person(a, f"author-{suffix}", ["community:write", "community:read"])
    voter = person(a, f"voter-{suffix}", ["community:write", "community:read"])
    added = graphql(a, {"query": ADD_PRACTICE, "variables": {"input": {
        "title": f"Pin actions {suffix}", "category": "SECURITY", "industry": "finance",
        "description": "Pin every third-party action by commit.", "steps": ["pin them"],
        "visibility": "PUBLIC"}}}, author)["data"]["addPractice"]
    assert added["errors"] == [], added
    practice = added["practice"]["id"]
    payloads = await at_once_on_both(pair, voter, UPVOTE, {"id": practice}, "upvotePractice")
    assert [payload["changed"] for payload in payloads].count(True) == 1, payloads
    assert {payload["practice"]["upvotes"] for payload in payloads} == {1}
    rows = await _fetch(a, "SELECT count(*) AS n FROM community_practice_vote "
                           "WHERE voter = $1", f"voter-{suffix}")
    assert rows[0]["n"] == 1


def test_rate_limit_is_one_budget_across_instances(
    postgres_database: str, tmp_path: Path
) -> None:
    a, b = start_instances(
        postgres_database, tmp_path, 2,
        deployment_env(unique_prefix(), ARCOS_WRITE_BURST="6", ARCOS_WRITE_RATE_PER_MINUTE="1"),
    )
    try:
        _, token = issue(a, ["evidence:write"])
        outcomes = []
        for i in range(10):
            server = (a, b)[i % 2]
            item = {"type": "t", "source": "s", "data": {"i": i}}
            result = graphql(server, {"query": SUBMIT, "variables": {"i": item}}, token)
            errors = result.get("errors") or []
            outcomes.append(errors[0]["extensions"]["code"] if errors else "ok")
        # Each instance alone would allow 6 (12 in all): together they allow 6.
        assert outcomes == ["ok"] * 6 + ["RATE_LIMITED"] * 4, outcomes
    finally:
        stop_server(a)
        stop_server(b)


async def _fetch(server: LiveServer, query: str, *args: object) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(server.database_url.replace("postgres://",
                                                                   "postgresql://", 1))
    try:
        return await connection.fetch(query, *args)
    finally:
        await connection.close()
