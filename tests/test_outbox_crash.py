"""A server killed between a commit and its publication loses no event and repeats none.

The evidence and its outbox row commit together; the process then dies before any
subscriber hears of it. An SSE reader that reconnects to the restarted server with the
last id it saw receives that item from the outbox, then live items, each exactly once.
Runs on a real SQLite file and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import httpx
import pytest
from conftest import LiveServer, issue_token_with_cli, start_server, stop_server
from crash_after_commit import CRASH_EXIT_CODE
from test_rest_stream import frames

HARNESS = Path(__file__).parent / "crash_after_commit.py"
#: The third item written through the sabotaged server commits and is never published.
CRASH_AFTER = 3

pytestmark = pytest.mark.server


async def _write(server: LiveServer, n: int) -> httpx.Response:
    async with httpx.AsyncClient(headers=server.auth_headers, timeout=30) as http:
        return await http.post(f"{server.http_url}/api/v1/evidence",
                               json={"type": "build", "source": "ci", "data": {"n": n}})


async def _read(server: LiveServer, received: list[dict], opened: asyncio.Event,
                last_event_id: str | None = None, until: int | None = None) -> None:
    """Append every evidence frame to `received` until the stream ends (or item `until`)."""
    headers = {**server.auth_headers, **({"last-event-id": last_event_id} if last_event_id
                                         else {})}
    try:
        async with httpx.AsyncClient(timeout=30) as http, http.stream(
            "GET", f"{server.http_url}/api/v3/evidence/stream", headers=headers
        ) as response:
            assert response.status_code == 200
            async for frame in frames(response):
                if frame.get("comment") == "connected":
                    opened.set()
                if frame.get("event") == "error":
                    raise AssertionError(frame)
                if frame.get("event") == "evidence":
                    received.append(frame)
                    if frame["data"]["data"]["n"] == until:
                        return
    except (httpx.RemoteProtocolError, httpx.ReadError):
        return  # the server died under the stream


async def test_a_server_killed_between_commit_and_publish_loses_no_event(
    database_url: str, tmp_path: Path
) -> None:
    token = issue_token_with_cli(database_url, "admin", "admin")
    crashing = start_server(
        database_url, tmp_path / "crashing.log", token=token,
        extra_env={"ARCOS_TEST_CRASH_AFTER_COMMITS": str(CRASH_AFTER)},
        command=[sys.executable, str(HARNESS)],
    )
    before: list[dict] = []
    try:
        opened = asyncio.Event()
        reader = asyncio.create_task(_read(crashing, before, opened))
        await asyncio.wait_for(opened.wait(), 15)
        for n in range(1, CRASH_AFTER):
            assert (await _write(crashing, n)).status_code == 201
        with pytest.raises(httpx.HTTPError):
            await _write(crashing, CRASH_AFTER)  # committed, then the process died
        await asyncio.wait_for(reader, 15)
        assert crashing.process.wait(timeout=15) == CRASH_EXIT_CODE, crashing.log()
    finally:
        stop_server(crashing)
    assert [f["data"]["data"]["n"] for f in before] == list(range(1, CRASH_AFTER))

    restarted = start_server(database_url, tmp_path / "restarted.log", token=token)
    try:
        after: list[dict] = []
        opened = asyncio.Event()
        reader = asyncio.create_task(
            _read(restarted, after, opened, before[-1]["id"], until=CRASH_AFTER + 1)
        )
        await asyncio.wait_for(opened.wait(), 15)
        assert (await _write(restarted, CRASH_AFTER + 1)).status_code == 201
        await asyncio.wait_for(reader, 15)
        async with httpx.AsyncClient(headers=restarted.auth_headers) as http:
            stored = (await http.get(f"{restarted.http_url}/api/v3/evidence",
                                     params={"first": 100})).json()["items"]
    finally:
        stop_server(restarted)
    # The crashed write is in the store, and the reader got it once, in commit order.
    assert sorted(item["data"]["n"] for item in stored) == list(range(1, CRASH_AFTER + 2))
    assert [f["data"]["data"]["n"] for f in after] == [CRASH_AFTER, CRASH_AFTER + 1]
    assert len({f["id"] for f in before + after}) == len(stored)
