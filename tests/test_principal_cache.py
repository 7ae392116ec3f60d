"""The principal cache (arcos/auth/principal_cache.py): a token is read once per
ARCOS_AUTH_CACHE_SECONDS, yet a revoked token is refused on the next request (revoked over
GraphQL) or within the revocation poll (revoked by `arcos token revoke`, another process),
an expired one is refused even while cached, and tokens that failed are never cached."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from conftest import issue_token_with_cli, running_app, start_server, stop_server

from arcos.auth.caller import Caller
from arcos.auth.models import ApiToken
from arcos.auth.principal_cache import PRINCIPAL_CACHE, PrincipalCache
from arcos.auth.token_format import new_token

VIEWER = {"query": "{ viewer { name } }"}
REVOKE = "mutation($t: String!) { revokeApiToken(input: {token: $t}) { errors { code } } }"
#: Far longer than any test waits: a refusal seen in these tests came from eviction.
TTL = {"ARCOS_AUTH_CACHE_SECONDS": "60"}


def _viewer_status(server, token: str) -> int:
    return httpx.post(f"{server.http_url}/graphql", json=VIEWER,
                      headers={"authorization": f"Bearer {token}"}, timeout=10).status_code


def test_a_token_revoked_over_graphql_is_refused_on_the_very_next_request(
    database_url: str, tmp_path: Path
):
    server = start_server(database_url, tmp_path / "server.log", extra_env=TTL)
    try:
        for round_ in range(3):  # each round: cached, revoked, refused at once
            name = f"ci-{round_}"
            token = issue_token_with_cli(database_url, name, "evidence:read")
            assert [_viewer_status(server, token) for _ in range(5)] == [200] * 5
            with httpx.Client(base_url=server.http_url, headers=server.auth_headers) as http:
                revoked = http.post("/graphql", json={"query": REVOKE, "variables": {"t": name}})
                assert revoked.json()["data"]["revokeApiToken"]["errors"] == []
                # the very next request, on the same connection as the mutation
                response = http.post("/graphql", json=VIEWER,
                                     headers={"authorization": f"Bearer {token}"})
            assert response.status_code == 401, response.text
            assert _viewer_status(server, token) == 401
    finally:
        stop_server(server)


def test_a_token_revoked_by_the_command_line_is_refused_long_before_the_cache_expires(
    database_url: str, tmp_path: Path
):
    server = start_server(database_url, tmp_path / "server.log", extra_env=TTL)
    try:
        token = issue_token_with_cli(database_url, "jenkins", "evidence:read")
        assert _viewer_status(server, token) == 200  # cached now, for 60 s
        revoked = subprocess.run(
            [sys.executable, "-m", "arcos", "token", "revoke", "jenkins",
             "--database-url", database_url],
            capture_output=True, text=True, timeout=60, check=False,
        )
        assert revoked.returncode == 0, revoked.stderr
        started = time.monotonic()
        while _viewer_status(server, token) == 200:
            # the server reads revocations from the outbox every 0.25 s; the cache would
            # honour the token for 60 s without that
            assert time.monotonic() - started < 20, "the revocation never reached the cache"
            time.sleep(0.05)
        assert _viewer_status(server, token) == 401
    finally:
        stop_server(server)


def _count_lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every ApiToken.get_or_none (the token look-up authenticate does)."""
    calls: list[str] = []
    original = ApiToken.get_or_none.__func__  # type: ignore[attr-defined]

    def counting(cls, *args, **kwargs):
        calls.append(kwargs.get("secret_sha256", "other"))
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(ApiToken, "get_or_none", classmethod(counting))
    return calls


@pytest.mark.parametrize(("seconds", "lookups"), [(60.0, 1), (0.0, 20)])
async def test_cached_requests_read_no_token(settings, monkeypatch, seconds, lookups):
    async with running_app(settings.replace(auth_cache_seconds=seconds)) as app:
        token = await app.issue("reader", "evidence:read")
        calls = _count_lookups(monkeypatch)
        async with app.client(token) as http:
            for _ in range(20):
                response = await http.post("/graphql", json=VIEWER)
                assert response.json() == {"data": {"viewer": {"name": "reader"}}}
        assert len(calls) == lookups
        cache: PrincipalCache = app.app.state.services.domain_services[PRINCIPAL_CACHE]
        assert len(cache) == (1 if seconds else 0)


async def test_an_expired_token_is_refused_even_while_cached(settings, monkeypatch):
    import arcos.auth.service as service

    async with running_app(settings.replace(auth_cache_seconds=3600.0)) as app:
        token = await app.issue("short-lived", "evidence:read", expires_in="1h")
        async with app.client(token) as http:
            assert (await http.post("/graphql", json=VIEWER)).status_code == 200
            calls = _count_lookups(monkeypatch)
            now = service._now()
            monkeypatch.setattr(service, "_now", lambda: now + timedelta(hours=1, seconds=1))
            response = await http.post("/graphql", json=VIEWER)
        assert response.status_code == 401
        assert calls == []  # refused from the cache's own copy of the expiry
        cache: PrincipalCache = app.app.state.services.domain_services[PRINCIPAL_CACHE]
        assert len(cache) == 0


async def test_tokens_that_fail_are_never_cached(settings):
    async with running_app(settings.replace(auth_cache_seconds=60.0)) as app:
        cache: PrincipalCache = app.app.state.services.domain_services[PRINCIPAL_CACHE]
        revoked = await app.issue("revoked", "evidence:read")
        expired = await app.issue("expired", "evidence:read", expires_in="1m")
        await ApiToken.filter(name="expired").update(
            expires_at=(await ApiToken.get(name="expired")).created_at
        )
        async with app.client(app.admin_token) as http:
            body = (await http.post("/graphql", json={
                "query": REVOKE, "variables": {"t": "revoked"}})).json()
            assert body["data"]["revokeApiToken"]["errors"] == []
            assert len(cache) == 1  # the admin's own token
        async with app.client() as http:
            for secret in [new_token() for _ in range(100)] + [revoked, expired]:
                response = await http.post("/graphql", json=VIEWER,
                                           headers={"authorization": f"Bearer {secret}"})
                assert response.status_code == 401
        assert len(cache) == 1


async def test_the_last_use_is_still_written_at_its_resolution(settings, monkeypatch):
    import arcos.auth.service as service

    async with running_app(settings.replace(auth_cache_seconds=3600.0)) as app:
        token = await app.issue("ticker", "evidence:read")
        async with app.client(token) as http:
            await http.post("/graphql", json=VIEWER)
            first = (await ApiToken.get(name="ticker")).last_used_at
            assert first is not None
            await http.post("/graphql", json=VIEWER)
            assert (await ApiToken.get(name="ticker")).last_used_at == first
            later = service._now() + service.LAST_USED_RESOLUTION + timedelta(seconds=1)
            monkeypatch.setattr(service, "_now", lambda: later)
            await http.post("/graphql", json=VIEWER)
            assert (await ApiToken.get(name="ticker")).last_used_at == later


def _caller(token_id: int) -> Caller:
    return Caller(name=f"p{token_id}", scopes=frozenset(), authenticated=True, token_id=token_id,
                  token_name=f"t{token_id}")


def test_the_cache_is_a_bounded_lru_with_a_time_to_live():
    now = [0.0]
    cache = PrincipalCache(ttl_seconds=30, max_entries=3, clock=lambda: now[0])
    for token_id in range(5):
        cache.put(f"d{token_id}", _caller(token_id), None, None, cache.generation)
    assert len(cache) == 3 and cache.get("d0") is None and cache.get("d1") is None
    assert cache.get("d2") is not None  # now the most recently used
    cache.put("d5", _caller(5), None, None, cache.generation)
    assert cache.get("d3") is None and cache.get("d2") is not None
    now[0] = 30.0
    assert cache.get("d2") is None


def test_a_look_up_that_raced_a_revocation_is_not_stored():
    cache = PrincipalCache(ttl_seconds=30)
    began = cache.generation  # a request read the token before it was revoked ...
    cache.revoked(7)  # ... the revocation committed (the token was not cached yet) ...
    cache.put("d7", _caller(7), None, None, began)  # ... and the request finished
    assert cache.get("d7") is None
    cache.put("d8", _caller(8), None, None, cache.generation)
    cache.revoked(8)
    assert cache.get("d8") is None and len(cache) == 0


@pytest.mark.parametrize("revoked_by", ["graphql", "cli"])
async def test_a_revocation_ends_open_subscriptions_without_waiting_for_the_recheck(
    tmp_path: Path, revoked_by: str
):
    from ws_client import TRANSPORT_WS, Api

    database_url = f"sqlite://{tmp_path / 'arcos.db'}"
    # Re-checked every 10 minutes: an end seen within the client's 10 s came from the event.
    server = start_server(database_url, tmp_path / "server.log",
                          extra_env={**TTL, "ARCOS_AUTH_RECHECK_SECONDS": "600"})
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            api = Api(http, server.http_url, server.ws_url, server.token)
            reader = await api.issue_token("board", "evidence:read")
            async with api.connect(TRANSPORT_WS, token=reader) as client:
                await client.subscribe("live")
                await api.wait_for_subscriptions(1)
                if revoked_by == "graphql":
                    await api.revoke_token("board")
                else:
                    revoked = await asyncio.to_thread(
                        subprocess.run,
                        [sys.executable, "-m", "arcos", "token", "revoke", "board",
                         "--database-url", database_url],
                        capture_output=True, text=True, timeout=60, check=False,
                    )
                    assert revoked.returncode == 0, revoked.stderr
                payload = await client.next_payload("live")
                assert payload["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", payload
                await client.expect_complete("live")
            await api.wait_for_subscriptions(0)
    finally:
        stop_server(server)
