"""Upgrading a store the previous release (main at 4b2f151, the last before migrations)
made and filled: tests/fixtures/previous_release/ holds its dumps (SQLite and PostgreSQL:
evidence in two projects with its outbox rows, two tokens) and what that release answered
for each item; make_fixtures.py says how they were made.

`arcos migrate` adopts the store (its schema becomes exactly a new store's), and the
upgraded server serves the same data to the same tokens, resumes the event stream from
the old outbox and goes on writing after it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import httpx
from conftest import LiveServer, start_server, stop_server
from previous_release import load_previous_store
from sse_client import frames
from store_shape import differences, shape
from test_migrate_command import arcos


async def resume(server: LiveServer, after: str, count: int, write: Callable) -> list[dict]:
    """The stream's evidence events after the cursor `after`, writing once it is open."""
    events: list[dict] = []
    async with httpx.AsyncClient(headers=server.auth_headers, timeout=20) as http:
        async with http.stream("GET", f"{server.http_url}/api/v3/evidence/stream",
                               headers={"last-event-id": after}) as response:
            assert response.status_code == 200
            async for frame in frames(response):
                if frame.get("comment") == "connected":
                    await write()
                if frame.get("event") == "evidence":
                    events.append(frame["data"])
                    if len(events) == count:
                        return events
    return events


def test_a_store_of_the_previous_release_is_upgraded_with_its_data(
    new_store_urls: Callable[[], str], tmp_path: Path,
):
    url, new = new_store_urls(), new_store_urls()
    previous = load_previous_store(url)

    # (What `migrate --check` and `migrate` answer for it: tests/test_migrate_command.py.)
    migrate = arcos("migrate", url=url)
    assert migrate.returncode == 0, migrate
    # Its schema is now exactly a new store's.
    assert arcos("migrate", url=new).returncode == 0
    assert not differences(shape(url), shape(new))

    server = start_server(url, tmp_path / "server.log", token=previous["tokens"]["admin"])
    try:
        with httpx.Client(base_url=server.http_url, headers=server.auth_headers) as http:
            for item in previous["evidence"]:
                answer = http.get(f"/api/v3/evidence/{item['read']['id']}")
                assert answer.status_code == 200, answer.text
                assert answer.json() == item["read"]
            assert http.get("/readyz").json() == {"status": "ready"}

        reader = {"authorization": f"Bearer {previous['tokens']['reader']}"}
        first = previous["evidence"][0]["read"]
        assert httpx.get(f"{server.http_url}/api/v3/evidence/{first['id']}",
                         headers=reader).status_code == 200
        refused = httpx.post(f"{server.http_url}/api/v1/evidence", headers=reader,
                             json={"type": "t", "source": "s", "data": {}})
        assert refused.status_code == 403, refused.text

        async def write() -> None:
            async with httpx.AsyncClient(headers=server.auth_headers) as http:
                posted = await http.post(f"{server.http_url}/api/v1/evidence", json={
                    "type": "note", "source": "after-upgrade", "data": {"n": 1}})
                assert posted.status_code == 201, posted.text

        # The old outbox rows replay after the first item's cursor, then the new write.
        events = asyncio.run(asyncio.wait_for(resume(server, first["cursor"], 3, write), 60))
        assert [event["id"] for event in events[:2]] == [
            item["read"]["id"] for item in previous["evidence"][1:]]
        assert events[2]["source"] == "after-upgrade"
    finally:
        stop_server(server)
