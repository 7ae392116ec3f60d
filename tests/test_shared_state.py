"""Shared state through a real Redis: the deployment-wide rate limit (atomic, expiring,
failing open to the local bucket), the epochs that tell instances their caches may be
stale, the gate that trusts an entry only under the epoch it was read under (failing
closed when Redis cannot say), and the principal and webhook-secret caches applying it."""

from __future__ import annotations

import asyncio
import logging
import shutil
import socket
import subprocess
import sys
import time

import pytest
import redis.asyncio as redis
from conftest import free_port, running_app
from redis_server import require_shared_redis, unique_prefix

from arcos.auth.caller import Caller
from arcos.auth.principal_cache import PrincipalCache
from arcos.auth.redis_rate_limit import RedisTokenBucket
from arcos.settings import Settings
from arcos.shared_state.epoch import SharedEpoch
from arcos.shared_state.epoch_gate import EpochGate
from arcos.shared_state.redis_state import SharedRedis
from arcos.webhooks.secret_cache import SecretCache

VIEWER = {"query": "{ viewer { name } }"}


@pytest.fixture
async def shared():
    """Two clients on one Redis and prefix: two instances of one deployment."""
    url, prefix = require_shared_redis(), unique_prefix()
    first, second = SharedRedis(url, prefix), SharedRedis(url, prefix)
    yield first, second
    keys = [key async for key in first.client.scan_iter(match=prefix + "*")]
    if keys:
        await first.client.delete(*keys)
    await first.close()
    await second.close()


def unreachable() -> SharedRedis:
    """A Redis URL nothing listens on."""
    return SharedRedis(f"redis://127.0.0.1:{free_port()}/0", unique_prefix())


async def test_budget_is_shared_by_instances(shared):
    a, b = (RedisTokenBucket(client, rate_per_minute=1, burst=4) for client in shared)
    answers = [await (a if i % 2 else b).acquire("ci") for i in range(6)]
    assert answers[:4] == [None] * 4
    assert all(wait is not None and 50 < wait <= 60 for wait in answers[4:])
    assert await a.acquire("other") is None  # per principal


async def test_concurrent_acquires_never_overspend(shared):
    a, b = (RedisTokenBucket(client, rate_per_minute=1, burst=10) for client in shared)
    answers = await asyncio.gather(*((a if i % 2 else b).acquire("ci") for i in range(40)))
    assert sum(answer is None for answer in answers) == 10


async def test_bucket_key_expires_and_carries_the_prefix(shared):
    first, _ = shared
    bucket = RedisTokenBucket(first, rate_per_minute=60, burst=3)
    await bucket.acquire("ci")
    keys = [key async for key in first.client.scan_iter(match=first.prefix + "*")]
    assert keys == [f"{first.prefix}rate:ci".encode()]
    ttl = await first.client.pttl(keys[0])
    assert 0 < ttl <= 2000  # one token to refill at 1/s, plus a second's margin


async def test_another_prefix_is_another_budget(shared):
    first, _ = shared
    other = SharedRedis(first.url, unique_prefix())
    try:
        mine = RedisTokenBucket(first, rate_per_minute=1, burst=1)
        theirs = RedisTokenBucket(other, rate_per_minute=1, burst=1)
        assert await mine.acquire("ci") is None
        assert await theirs.acquire("ci") is None
        assert await mine.acquire("ci") is not None
    finally:
        await other.client.delete(other.key("rate:ci"))
        await other.close()


async def test_unreachable_redis_fails_open_to_the_local_bucket(caplog):
    down = unreachable()
    bucket = RedisTokenBucket(down, rate_per_minute=1, burst=2)
    with caplog.at_level(logging.WARNING, logger="arcos.shared_state"):
        answers = [await bucket.acquire("ci") for _ in range(3)]
    assert answers[:2] == [None, None] and answers[2] is not None  # still bounded, locally
    warnings = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(warnings) == 1  # once per outage, not per request
    await down.close()


async def test_epoch_changes_are_seen_by_every_instance(shared):
    a, b = (SharedEpoch(client, "test") for client in shared)
    initial = await b.read()
    assert initial is not None and await a.read() == initial  # one value, set by the first
    await a.change()
    first = await b.read()
    assert first not in (None, initial)
    await a.change()
    assert await b.read() not in (None, first)


async def test_an_epoch_lost_with_redis_data_never_comes_round_again(shared):
    """A Redis restarted without its data must not give back the value a cache entry was
    read under before a revocation."""
    a, b = (SharedEpoch(client, "lost") for client in shared)
    before = await b.read()
    await a.change()
    await shared[0].run(lambda client: client.delete(a.key))  # Redis lost its data
    assert await b.read() not in (None, before)


async def test_a_change_is_announced_even_while_redis_rests(shared):
    """A failed rate-limit call a moment ago must not keep a revocation from being
    announced."""
    a, b = (SharedEpoch(client, "resting") for client in shared)
    before = await b.read()
    shared[0]._down_until = float("inf")  # as after a failure moments ago
    try:
        await a.change()
    finally:
        shared[0]._down_until = None
    assert await b.read() not in (None, before)


async def test_epoch_of_an_unreachable_redis_is_unknown():
    down = unreachable()
    epoch = SharedEpoch(down, "test")
    assert await epoch.read() is None
    await epoch.change()  # logged, never raised: the write it follows has committed
    await down.close()


# The gate both caches trust their entries by (arcos/shared_state/epoch_gate.py).


async def test_a_gate_trusts_an_entry_only_under_the_epoch_it_was_read_under(shared):
    a, b = shared
    gate = EpochGate(SharedEpoch(b, "gate"))
    stamp = await gate.read()
    assert stamp is not None and gate.may_keep(stamp)
    assert gate.trusts(stamp, await gate.read())
    announced = EpochGate(SharedEpoch(a, "gate")).announce()  # another instance's change
    assert announced is not None
    await announced
    now = await gate.read()
    assert not gate.trusts(stamp, now)
    assert gate.trusts(now, await gate.read())  # what is read again is trusted again


async def test_a_gate_trusts_nothing_read_before_redis_lost_the_epoch(shared):
    """A missing epoch gets a fresh random value, never one an entry can hold."""
    first, _ = shared
    gate = EpochGate(SharedEpoch(first, "gate-lost"))
    stamp = await gate.read()
    await first.run(lambda client: client.delete(first.key("epoch:gate-lost")))
    now = await gate.read()
    assert now is not None and not gate.trusts(stamp, now)


async def test_a_gate_fails_closed_while_redis_is_down():
    down = unreachable()
    gate = EpochGate(SharedEpoch(down, "gate"))
    now = await gate.read()
    assert now is None
    assert not gate.may_keep(now)  # a read now could never be checked later: not kept
    assert not gate.trusts("read-before-the-outage", now)
    assert not gate.trusts(None, now)  # not even an entry stamped as unknown
    announced = gate.announce()
    assert announced is not None
    await announced  # logged, never raised: the write it follows has committed
    await down.close()


async def test_without_shared_redis_the_gate_is_open():
    gate = EpochGate(None)
    now = await gate.read()
    assert now is None and gate.may_keep(now) and gate.trusts(None, now)
    assert gate.announce() is None


def _secret_cache(epoch: SharedEpoch, monkeypatch: pytest.MonkeyPatch
                  ) -> tuple[SecretCache, list[int]]:
    """A webhook secret cache under `epoch`, and the list each store read appends to."""
    reads: list[int] = []

    async def overrides(names):
        reads.append(len(names))
        return {}

    monkeypatch.setattr("arcos.webhooks.secret_cache.secret_overrides", overrides)
    settings = Settings(auth_cache_seconds=3600)
    return SecretCache(settings, ["GITHUB_WEBHOOK_SECRET"], 3600, epoch), reads


async def test_cached_webhook_secrets_are_used_only_under_their_epoch(shared, monkeypatch):
    a, b = shared
    cache, reads = _secret_cache(SharedEpoch(b, "secrets"), monkeypatch)
    await cache.overrides()
    await cache.overrides()
    assert len(reads) == 1
    await SharedEpoch(a, "secrets").change()  # another instance set a secret
    await cache.overrides()
    assert len(reads) == 2


async def test_webhook_secrets_are_read_from_the_store_while_redis_is_down(monkeypatch):
    down = unreachable()
    cache, reads = _secret_cache(SharedEpoch(down, "secrets"), monkeypatch)
    for _ in range(3):
        await cache.overrides()
    assert len(reads) == 3 and not cache.cached  # fail closed: nothing kept
    await down.close()


def _caller(token_id: int) -> Caller:
    return Caller(name="ci", kind="ci", scopes=frozenset(), authenticated=True,
                  token_id=token_id, token_name=f"t{token_id}")


async def test_a_hit_is_trusted_only_under_the_epoch_it_was_read_under(shared):
    a, b = shared
    cache = PrincipalCache(ttl_seconds=30, epoch=SharedEpoch(b, "auth"))
    lookup = await cache.lookup("d1")
    assert lookup.entry is None
    cache.put("d1", _caller(1), None, None, lookup.generation, lookup.epoch)
    assert (await cache.lookup("d1")).entry is not None
    await SharedEpoch(a, "auth").change()  # another instance revoked some token
    assert (await cache.lookup("d1")).entry is None


async def test_no_hit_is_trusted_when_redis_cannot_say():
    down = unreachable()
    cache = PrincipalCache(ttl_seconds=30, epoch=SharedEpoch(down, "auth"))
    lookup = await cache.lookup("d1")
    assert lookup.epoch is None
    cache.put("d1", _caller(1), None, None, lookup.generation, lookup.epoch)
    assert len(cache) == 0  # nothing stored that could never be trusted
    await down.close()


async def test_requests_read_the_store_while_redis_is_down(settings):
    """Fail closed: with Redis unreachable every request authenticates from the store, so
    a token revoked meanwhile (here, behind the cache's back) is refused at once."""
    settings = settings.replace(broker_url=f"redis://127.0.0.1:{free_port()}/0",
                                redis_key_prefix=unique_prefix())
    async with running_app(settings) as running:
        from arcos.auth.models import ApiToken

        token = await running.issue("ci-reader", "evidence:read")
        async with running.client(token) as http:
            assert "errors" not in (await http.post("/graphql", json=VIEWER)).json()
            await ApiToken.filter(name="ci-reader").update(revoked_at=await _now())
            answer = (await http.post("/graphql", json=VIEWER)).json()
            assert answer["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
            async with running.client(running.admin_token) as admin:
                write = await admin.post("/graphql", json={
                    "query": "mutation { submitEvidence(input: {type: \"t\", source: \"s\", "
                             "data: {}}) { evidence { id } errors { code } } }"})
                # A write is never refused because Redis is down (the limit fails open).
                assert write.json()["data"]["submitEvidence"]["evidence"]["id"]


async def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


async def test_redis_client_fails_fast():
    """The client's own retries are off: a call to a dead Redis fails in one attempt."""
    down = unreachable()
    with pytest.raises(redis.ConnectionError):
        await down.client.ping()
    await down.close()


def test_one_process_never_imports_the_redis_client(tmp_path):
    """Importing redis costs about a third of a second: the embedded start (no
    ARCOS_BROKER_URL) must not pay it; a configured Redis does."""
    script = (
        "import sys\n"
        "from arcos.app import create_app\n"
        "from arcos.settings import Settings\n"
        f"settings = Settings(database_url='sqlite://{tmp_path / 'arcos.db'}')\n"
        "create_app(settings)\n"
        "print('redis' in sys.modules)\n"
        "create_app(settings.replace(broker_url='redis://127.0.0.1:1/0'))\n"
        "print('redis' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120, check=True, cwd=tmp_path)
    assert result.stdout.split() == ["False", "True"]


def _redis_server(port: int) -> subprocess.Popen[bytes]:
    """A Redis of this test's own (it is stopped and restarted; the shared one never is)."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not on PATH")
    process = subprocess.Popen(["redis-server", "--port", str(port), "--save", "",
                                "--appendonly", "no"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), 0.1).close()
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("redis-server did not start")


async def test_limiter_returns_to_redis_after_a_restart():
    port = free_port()
    server = _redis_server(port)
    shared = SharedRedis(f"redis://127.0.0.1:{port}/0", unique_prefix(), retry_after=0.05)
    bucket = RedisTokenBucket(shared, rate_per_minute=1, burst=3)
    try:
        assert await bucket.acquire("ci") is None
        assert await shared.client.exists(shared.key("rate:ci"))
        server.terminate()
        server.wait()
        assert await bucket.acquire("ci") is None  # the local bucket, not an error
        server = _redis_server(port)  # empty: the script and the bucket are gone
        await asyncio.sleep(0.1)  # past retry_after
        answers = [await bucket.acquire("ci") for _ in range(4)]
        assert answers[:3] == [None] * 3 and answers[3] is not None  # Redis's fresh bucket
        assert await shared.client.exists(shared.key("rate:ci"))
    finally:
        await shared.close()
        server.terminate()
        server.wait()


def test_two_stores_on_one_redis_get_their_own_key_prefixes(tmp_path) -> None:
    """Deployments sharing a Redis must not share rate-limit budgets or epochs by default."""
    from arcos.settings import Settings
    from arcos.shared_state import shared_redis

    url = require_shared_redis()
    first, second, again = (
        shared_redis(Settings(broker_url=url, database_url=f"sqlite://{tmp_path / name}"))
        for name in ("one.db", "two.db", "one.db"))
    assert first is not None and second is not None and again is not None
    assert first.key("epoch:auth") != second.key("epoch:auth")
    assert first.key("epoch:auth") == again.key("epoch:auth")
    assert first.prefix.startswith("arcos:")
