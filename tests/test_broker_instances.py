"""Three ARCOS instances on one PostgreSQL database and one Redis behave as one server
(issue #15's broker proofs):

- a graphql-transport-ws subscriber on A receives the evidence posted concurrently to B
  and C, each item once, in the outbox's commit order;
- an SSE reader that hops from instance to instance, resuming with Last-Event-ID, misses
  and repeats nothing while all three take writes;
- Redis stopped mid-stream: open subscriptions end with a coded BROKER_UNAVAILABLE error
  (no hang), new ones are refused (503 for SSE), /readyz says why, writes are still
  accepted; once Redis is back, a reconnect that resumes gets everything, once.

Redis here is a `redis-server` of the test's own (it is stopped and started again). The
tests need PostgreSQL (three processes writing one SQLite file would prove little about
commit order) and skip with the reason when ARCOS_TEST_POSTGRES_URL is unset.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from conftest import LiveServer, issue_token_with_cli, start_server, stop_server
from redis_server import RedisServer
from sse_client import frames
from test_evidence_backup import ITEMS, _export, _fill
from ws_client import TRANSPORT_WS, Api, SubscriptionClient

from arcos.graphql.pagination import decode_cursor

pytestmark = [pytest.mark.server, pytest.mark.postgres]

#: Guards against a hang only; nothing asserts how long anything took.
GUARD_SECONDS = 180
STREAM = "/api/v3/evidence/stream"

SUBSCRIPTION = """
subscription($after: String) {
  evidenceAdded(after: $after) { id cursor type project { slug } data }
}
"""
SUBMIT = """
mutation($i: SubmitEvidenceInput!) {
  submitEvidence(input: $i) { evidence { id cursor } errors { field message code } }
}
"""


# Starting three servers is most of these tests' time, so they are started once for the
# module; each test is written to hold whatever the ones before it wrote, and the restart
# test leaves Redis running again.


@pytest.fixture(scope="module")
def postgres_url(postgres_database: str) -> str:
    """The session's PostgreSQL database, emptied for this module."""
    from conftest import _truncate_postgres

    asyncio.run(_truncate_postgres(postgres_database))
    return postgres_database


@pytest.fixture(scope="module")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def instances(
    postgres_url: str, redis: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[LiveServer]]:
    """Three servers sharing the database and the Redis, started together."""
    tmp_path = tmp_path_factory.mktemp("instances")
    token = issue_token_with_cli(postgres_url, "instances-admin", "admin")
    env = {"ARCOS_BROKER_URL": redis.url, "ARCOS_WRITE_RATE_PER_MINUTE": "1000000",
           "ARCOS_WRITE_BURST": "1000000", "ARCOS_SSE_HEARTBEAT_SECONDS": "0.5"}
    with ThreadPoolExecutor(3) as pool:
        started = list(pool.map(
            lambda name: start_server(postgres_url, tmp_path / f"{name}.log", env, token),
            "abc",
        ))
    try:
        yield started
    finally:
        for server in started:
            stop_server(server)


async def submit(http: httpx.AsyncClient, server: LiveServer, **fields: Any) -> str:
    """submitEvidence on `server`; the new item's cursor."""
    response = await http.post(
        f"{server.http_url}/graphql", headers=server.auth_headers,
        json={"query": SUBMIT, "variables": {"i": {"source": "instances", **fields}}},
    )
    assert response.status_code == 200, response.text
    payload = response.json()["data"]["submitEvidence"]
    assert payload["errors"] == [], payload
    return payload["evidence"]["cursor"]


async def write_load(http: httpx.AsyncClient, servers: list[LiveServer], per_writer: int,
                     kind: str = "load") -> list[str]:
    """Two writers per server (one per project), each posting `per_writer` items one
    after another; every cursor written."""
    async def writer(server: LiveServer, project: str) -> list[str]:
        return [await submit(http, server, type=kind, project=project, data={"n": n})
                for n in range(per_writer)]

    batches = await asyncio.gather(*(
        writer(server, f"example.com/p{index}{side}")
        for index, server in enumerate(servers) for side in "xy"
    ))
    return [cursor for batch in batches for cursor in batch]


async def outbox_order(database_url: str) -> list[int]:
    """Every evidence seq in the outbox, in commit (position) order."""
    connection = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        rows = await connection.fetch(
            "SELECT key FROM arcos_outbox WHERE topic = 'evidence.added' ORDER BY position")
    finally:
        await connection.close()
    return [int(row["key"]) for row in rows]


def seq(cursor: str) -> int:
    value = decode_cursor("evidence", cursor)
    assert value is not None
    return value


async def until_error(ws: SubscriptionClient, operation: str,
                      received: list[str] | None = None) -> dict[str, Any]:
    """Read `operation`'s results (recording their cursors) until one carries an error or
    the server sends an `error` message; that error."""
    while True:
        message = await ws.receive(GUARD_SECONDS)
        assert message.get("id") == operation, message
        if message["type"] == "error":
            return message["payload"][0]
        assert message["type"] == "next", message
        payload = message["payload"]
        if payload.get("errors"):
            return payload["errors"][0]
        if received is not None:
            received.append(payload["data"]["evidenceAdded"]["cursor"])


async def test_a_subscriber_on_one_instance_hears_the_others_in_commit_order(
    instances: list[LiveServer],
) -> None:
    a, b, c = instances
    async with httpx.AsyncClient(timeout=30) as http:
        api = Api(http, a.http_url, a.ws_url, a.token)
        async with api.connect(TRANSPORT_WS) as ws:
            await ws.subscribe("all", SUBSCRIPTION)
            await api.wait_for_subscriptions(1)
            written = await asyncio.wait_for(write_load(http, [b, c], 30), GUARD_SECONDS)
            sentinel = await submit(http, c, type="sentinel", data={})
            received: list[str] = []
            while not received or received[-1] != sentinel:
                item = await ws.next_evidence("all", GUARD_SECONDS)
                received.append(item["cursor"])
    order = [s for s in await outbox_order(a.database_url) if s in set(map(seq, written))]
    counts = Counter(received)
    assert [s for s, n in counts.items() if n > 1] == [], "repeated"
    assert set(written) <= set(received), f"{len(set(written) - set(received))} never arrived"
    assert [seq(cursor) for cursor in received[:-1]] == order, "not in commit order"


async def test_sse_resumes_across_instances_without_loss_or_repeats(
    instances: list[LiveServer],
) -> None:
    rng = random.Random()
    received: list[str] = []
    hops = 0
    async with httpx.AsyncClient(timeout=30) as http:
        done = asyncio.Event()
        sentinel: list[str] = []

        async def read() -> None:
            nonlocal hops
            last: str | None = None
            while not done.is_set():
                server = instances[hops % 3]
                headers = {**server.auth_headers, **({"last-event-id": last} if last else {})}
                budget = rng.randint(1, 25)
                async with http.stream("GET", server.http_url + STREAM,
                                       headers=headers) as response:
                    assert response.status_code == 200, await response.aread()
                    async for frame in frames(response):
                        assert frame.get("event") != "error", frame
                        if frame.get("event") != "evidence":
                            continue
                        received.append(frame["id"])
                        last = frame["id"]
                        if sentinel and frame["id"] == sentinel[0]:
                            done.set()
                            return
                        budget -= 1
                        if budget == 0:
                            break
                hops += 1

        reading = asyncio.create_task(read())
        try:
            # The reader's first stream is live once an item written now reaches it.
            while not received:
                await submit(http, instances[1], type="marker", data={})
                await asyncio.sleep(0.1)
            written = await asyncio.wait_for(write_load(http, instances, 40), GUARD_SECONDS)
            sentinel.append(await submit(http, instances[2], type="sentinel", data={}))
            await asyncio.wait_for(reading, GUARD_SECONDS)
        finally:
            reading.cancel()
            await asyncio.gather(reading, return_exceptions=True)
    counts = Counter(received)
    assert [cursor for cursor, n in counts.items() if n > 1] == [], "repeated"
    missed = set(written) - set(counts)
    assert not missed, f"{len(missed)} of {len(written)} items never arrived ({hops} hops)"
    assert hops >= 3, "the reader should have resumed on other instances"


async def test_redis_restarted_mid_stream_ends_subscriptions_and_loses_nothing(
    instances: list[LiveServer], redis: RedisServer,
) -> None:
    a, b, c = instances
    async with httpx.AsyncClient(timeout=30) as http:
        api = Api(http, a.http_url, a.ws_url, a.token)
        before: list[str] = []
        async with api.connect(TRANSPORT_WS) as ws:
            await ws.subscribe("live", SUBSCRIPTION)
            await api.wait_for_subscriptions(1)
            for n in range(5):
                before.append(await submit(http, b, type="before", data={"n": n}))
            for cursor in before:
                assert (await ws.next_evidence("live", GUARD_SECONDS))["cursor"] == cursor

            redis.stop()
            error = await asyncio.wait_for(until_error(ws, "live"), GUARD_SECONDS)
            assert error["extensions"]["code"] == "BROKER_UNAVAILABLE", error
            assert "connection to the shared event broker (Redis) was lost" in error["message"]
            assert "after" in error["message"]
            await ws.expect_complete("live")  # ended, not left hanging

            # While Redis is away: writes are accepted everywhere, live streams refused.
            during = [await submit(http, server, type="during", data={"n": n})
                      for n, server in enumerate([a, b, c, b])]
            for server in instances:
                ready = await http.get(server.http_url + "/readyz")
                assert ready.status_code == 503
                assert "Redis" in ready.json()["problems"]["broker"]
            refused = await asyncio.wait_for(
                http.get(a.http_url + STREAM, headers=a.auth_headers), GUARD_SECONDS)
            assert refused.status_code == 503
            assert refused.json()["errors"][0]["extensions"]["code"] == "BROKER_UNAVAILABLE"
            await ws.subscribe("while-down", SUBSCRIPTION)
            error = await asyncio.wait_for(until_error(ws, "while-down"), GUARD_SECONDS)
            assert error["extensions"]["code"] == "BROKER_UNAVAILABLE", error
            assert "retry shortly" in error["message"]

        redis.start()
        for server in instances:
            while (await http.get(server.http_url + "/readyz")).status_code != 200:
                await asyncio.sleep(0.1)

        # The client reconnects and resumes after the last item it saw.
        async with api.connect(TRANSPORT_WS) as ws:
            await ws.subscribe("resumed", SUBSCRIPTION, {"after": before[-1]})
            await api.wait_for_subscriptions(1)
            after = [await submit(http, c, type="after", data={"n": n}) for n in range(3)]
            resumed = [(await ws.next_evidence("resumed", GUARD_SECONDS))["cursor"]
                       for _ in range(len(during) + len(after))]
            await ws.stop("resumed")
    assert resumed == during + after


async def test_an_import_beside_the_instances_reaches_their_subscribers(
    instances: list[LiveServer], redis: RedisServer, tmp_path: Path,
) -> None:
    """`arcos import` writes through the outbox from its own process: unless it publishes
    on the shared channel too, every instance would find its positions missing and end the
    evidence subscriptions as if Redis had lost them."""
    a, b, _ = instances
    source = f"sqlite://{tmp_path / 'source.db'}"
    await _fill(source, tmp_path)
    export = tmp_path / "export.ndjson"
    _export(source, export)
    async with httpx.AsyncClient(timeout=30) as http:
        api = Api(http, a.http_url, a.ws_url, a.token)
        async with api.connect(TRANSPORT_WS) as ws:
            await ws.subscribe("imported", SUBSCRIPTION)
            await api.wait_for_subscriptions(1)
            imported = await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-m", "arcos", "import", "--database-url", a.database_url,
                 str(export)],
                env={**os.environ, "ARCOS_BROKER_URL": redis.url},
                capture_output=True, text=True, timeout=GUARD_SECONDS, check=False,
            )
            assert imported.returncode == 0, imported.stderr
            received = [(await ws.next_evidence("imported", GUARD_SECONDS))["type"]
                        for _ in ITEMS]
            # Still open well past the servers' wait for missing positions (2 s).
            await asyncio.sleep(3)
            sentinel = await submit(http, b, type="sentinel", data={})
            assert (await ws.next_evidence("imported", GUARD_SECONDS))["cursor"] == sentinel
    assert sorted(received) == sorted(item["type"] for item in ITEMS)
