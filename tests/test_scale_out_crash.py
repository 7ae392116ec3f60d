"""`kill -9` of one of three instances under write load, on one PostgreSQL and Redis:
every write any instance acknowledged is in the store afterwards, and the surviving
instances keep serving (they acknowledge more writes after the kill)."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from pathlib import Path

import httpx
import pytest
from conftest import LiveServer, _truncate_postgres, stop_server
from redis_server import unique_prefix
from test_scale_out_shared_state import SUBMIT, _fetch, deployment_env, issue, start_instances

pytestmark = pytest.mark.postgres

WRITERS_PER_INSTANCE = 4
#: Writes acknowledged (in all) before the victim is killed, and by each survivor after.
BEFORE_KILL = 60
AFTER_KILL = 20


def children_of(pid: int) -> list[int]:
    """The processes `pid` started (its parse and sandbox workers), read from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


async def test_kill_9_loses_no_acknowledged_write_and_survivors_keep_serving(
    postgres_database: str, tmp_path: Path
) -> None:
    await _truncate_postgres(postgres_database)
    env = deployment_env(unique_prefix(), ARCOS_WRITE_BURST="1000000",
                         ARCOS_WRITE_RATE_PER_MINUTE="1000000")
    servers = await asyncio.to_thread(start_instances, postgres_database, tmp_path, 3, env)
    victim, survivors = servers[2], servers[:2]
    _, token = await asyncio.to_thread(issue, servers[0], ["evidence:write"])
    acknowledged: dict[str, set[str]] = {str(server.port): set() for server in servers}
    killed = asyncio.Event()
    after_kill = {str(server.port): 0 for server in survivors}
    stop = asyncio.Event()
    orphans: list[int] = []

    async def write(server: LiveServer, http: httpx.AsyncClient, writer: int) -> None:
        n = 0
        while not stop.is_set():
            key = f"w{server.port}-{writer}-{n}-{uuid.uuid4().hex[:6]}"
            n += 1
            item = {"type": "build", "source": "ci", "data": {"n": n}, "idempotencyKey": key}
            try:
                response = await http.post(f"{server.http_url}/graphql",
                                           json={"query": SUBMIT, "variables": {"i": item}})
            except httpx.HTTPError:
                assert server is victim, f"a survivor failed a request: {server.log()[-2000:]}"
                return  # the victim is gone; its unanswered writes were never acknowledged
            assert response.status_code == 200, response.text
            payload = response.json()["data"]["submitEvidence"]
            assert payload["errors"] == [], payload
            acknowledged[str(server.port)].add(key)
            if killed.is_set() and server is not victim:
                after_kill[str(server.port)] += 1

    async def kill_under_load() -> None:
        while sum(len(keys) for keys in acknowledged.values()) < BEFORE_KILL:
            await asyncio.sleep(0.01)
        assert acknowledged[str(victim.port)], "the victim acknowledged nothing before the kill"
        orphans.extend(children_of(victim.process.pid))
        os.kill(victim.process.pid, signal.SIGKILL)
        killed.set()
        while min(after_kill.values()) < AFTER_KILL:
            await asyncio.sleep(0.01)
        stop.set()

    try:
        async with httpx.AsyncClient(timeout=30,
                                     headers={"authorization": f"Bearer {token}"}) as http:
            await asyncio.wait_for(asyncio.gather(
                kill_under_load(),
                *(write(server, http, w) for server in servers
                  for w in range(WRITERS_PER_INSTANCE)),
            ), timeout=300)
        stored = {row["idempotency_key"] for row in await _fetch(
            survivors[0], "SELECT idempotency_key FROM evidence")}
        for port, keys in acknowledged.items():
            missing = keys - stored
            assert not missing, f"instance {port} acknowledged writes the store lacks: {missing}"
        async with httpx.AsyncClient(timeout=30) as http:
            for survivor in survivors:
                assert (await http.get(f"{survivor.http_url}/readyz")).status_code == 200
    finally:
        stop.set()
        for server in servers:
            stop_server(server)
        for pid in orphans:  # the victim's workers, if its death did not take them along
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
