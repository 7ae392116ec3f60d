"""Acknowledged writes survive a clean restart and a `kill -9` of the server process."""

from __future__ import annotations

import asyncio
import signal

import httpx
from conftest import start_server, stop_server

SUBMIT = """mutation($i: SubmitEvidenceInput!) {
  submitEvidence(input: $i) { evidence { id } errors { message } }
}"""


async def submit(http: httpx.AsyncClient, url: str, n: int) -> str:
    response = await http.post(
        f"{url}/graphql",
        json={"query": SUBMIT, "variables": {"i": {
            "type": "build", "source": "ci", "data": {"n": n}, "project": "github.com/a/b",
        }}},
    )
    payload = response.json()["data"]["submitEvidence"]
    assert payload["errors"] == []
    return payload["evidence"]["id"]


async def stored_ids(url: str, headers: dict[str, str]) -> set[str]:
    ids: set[str] = set()
    after = None
    async with httpx.AsyncClient(timeout=10, headers=headers) as http:
        while True:
            response = await http.post(f"{url}/graphql", json={
                "query": "query($a: String) { evidenceConnection(first: 100, after: $a) "
                         "{ nodes { id } pageInfo { hasNextPage endCursor } } }",
                "variables": {"a": after},
            })
            page = response.json()["data"]["evidenceConnection"]
            ids |= {node["id"] for node in page["nodes"]}
            if not page["pageInfo"]["hasNextPage"]:
                return ids
            after = page["pageInfo"]["endCursor"]


async def test_writes_survive_a_clean_restart(database_url, tmp_path):
    server = start_server(database_url, tmp_path / "first.log")
    try:
        async with httpx.AsyncClient(timeout=10, headers=server.auth_headers) as http:
            written = {await submit(http, server.http_url, n) for n in range(5)}
    finally:
        stop_server(server)
    again = start_server(database_url, tmp_path / "second.log")
    try:
        assert await stored_ids(again.http_url, again.auth_headers) == written
    finally:
        stop_server(again)


async def test_acknowledged_writes_survive_kill_9(database_url, tmp_path):
    server = start_server(database_url, tmp_path / "killed.log")
    acknowledged: list[str] = []
    try:
        async with httpx.AsyncClient(timeout=10, headers=server.auth_headers) as http:
            for n in range(10):
                acknowledged.append(await submit(http, server.http_url, n))

            async def writer(base: int) -> None:
                for n in range(base, base + 50):
                    try:
                        acknowledged.append(await submit(http, server.http_url, n))
                    except (httpx.HTTPError, KeyError, ValueError):
                        return  # the server died mid-request: not acknowledged

            writers = [asyncio.create_task(writer(1000 * w)) for w in range(1, 5)]
            while len(acknowledged) < 40:
                await asyncio.sleep(0.005)
            server.process.send_signal(signal.SIGKILL)
            await asyncio.gather(*writers)
    finally:
        server.process.wait()
    count = len(acknowledged)
    assert count >= 40
    restarted = start_server(database_url, tmp_path / "restarted.log")
    try:
        stored = await stored_ids(restarted.http_url, restarted.auth_headers)
    finally:
        stop_server(restarted)
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} of {count} acknowledged writes were lost"
