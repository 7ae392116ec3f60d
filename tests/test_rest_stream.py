"""GET /api/v3/evidence/stream over a real uvicorn: live events, resume, heartbeats, cleanup."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from conftest import LiveServer, start_server, stop_server
from sse_client import frames


@pytest.fixture
def server(tmp_path):
    live = start_server(f"sqlite://{tmp_path / 'sse.db'}", tmp_path / "sse.log",
                        extra_env={"ARCOS_SSE_HEARTBEAT_SECONDS": "0.3"})
    try:
        yield live
    finally:
        stop_server(live)


async def submit(server: LiveServer, **fields) -> dict:
    body = {"type": "build", "source": "ci", "data": {}, **fields}
    async with httpx.AsyncClient(headers=server.auth_headers) as http:
        response = await http.post(f"{server.http_url}/api/v1/evidence", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def collect(server: LiveServer, count: int, params=None, headers=None,
                  on_open=None) -> list[dict]:
    received: list[dict] = []
    async with httpx.AsyncClient(headers=server.auth_headers, timeout=10) as http:
        async with http.stream("GET", f"{server.http_url}/api/v3/evidence/stream",
                               params=params or {}, headers=headers or {}) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            async for frame in frames(response):
                if frame.get("comment") == "connected" and on_open is not None:
                    await on_open()
                    on_open = None
                received.append(frame)
                if len([f for f in received if f.get("event") == "evidence"]) >= count:
                    return received
    return received


async def test_live_events_are_filtered_and_carry_their_cursor(server):
    async def write():
        await submit(server, type="other")
        await submit(server, type="build", data={"n": 1})

    received = await asyncio.wait_for(
        collect(server, 1, params={"type": "build"}, on_open=write), 15
    )
    events = [f for f in received if f.get("event") == "evidence"]
    assert events[0]["data"]["data"] == {"n": 1}
    assert events[0]["id"] == events[0]["data"]["cursor"]


async def test_last_event_id_resumes_from_the_store_without_duplicates(server):
    first = await submit(server, data={"n": 0})
    for n in range(1, 4):
        await submit(server, data={"n": n})

    async def write_live():
        await submit(server, data={"n": 4})

    received = await asyncio.wait_for(
        collect(server, 4, headers={"last-event-id": first["cursor"]}, on_open=write_live), 15
    )
    numbers = [f["data"]["data"]["n"] for f in received if f.get("event") == "evidence"]
    assert numbers == [1, 2, 3, 4]


async def test_heartbeats_keep_an_idle_stream_alive(server):
    comments: list[str] = []
    async with httpx.AsyncClient(headers=server.auth_headers, timeout=10) as http:
        async with http.stream("GET", f"{server.http_url}/api/v3/evidence/stream") as response:
            async for frame in frames(response):
                comments.append(frame.get("comment", ""))
                if comments.count("heartbeat") >= 2:
                    break
    assert comments[0] == "connected" and comments.count("heartbeat") >= 2


async def test_leaving_clients_release_their_subscriptions(server):
    async def open_and_leave():
        async with httpx.AsyncClient(headers=server.auth_headers, timeout=10) as http:
            async with http.stream("GET", f"{server.http_url}/api/v3/evidence/stream") as r:
                async for _ in r.aiter_lines():
                    break

    await asyncio.gather(*(open_and_leave() for _ in range(20)))
    deadline = time.monotonic() + 10
    count = None
    async with httpx.AsyncClient() as http:
        while time.monotonic() < deadline:
            count = (await http.get(f"{server.http_url}/healthz")).json()["subscriptions"]
            if count == 0:
                break
            await asyncio.sleep(0.1)
    assert count == 0, f"{count} subscriptions still open"
    assert "Traceback" not in server.log()


async def test_stream_refuses_bad_credentials_and_bad_resume_ids(server):
    async with httpx.AsyncClient(timeout=10) as http:
        url = f"{server.http_url}/api/v3/evidence/stream"
        assert (await http.get(url)).status_code == 401
        bad = await http.get(url, headers={"authorization": "Bearer arcos_" + "n" * 43})
        assert bad.status_code == 401
        resume = await http.get(url, headers={**server.auth_headers, "last-event-id": "zzz"})
        assert resume.status_code == 400
        assert "Last-Event-ID" in resume.json()["errors"][0]["message"]
