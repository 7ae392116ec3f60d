"""The evidence stream misses nothing and repeats nothing while writers race and the reader
drops and resumes (issue #10's outbox proof).

Four writers submit evidence concurrently over HTTP to a live `arcos serve`, on a SQLite
file and on PostgreSQL, while one SSE reader of `GET /api/v3/evidence/stream` drops its
connection at random points and resumes with `Last-Event-ID` set to the last `id:` it
received. On PostgreSQL concurrent transactions commit out of sequence order, so a resume
point (or a live-event filter) based on the sequence number can step over an item that
commits late; the stream must instead resume from a commit-ordered position. On the
evidence-sequence stream of 2026-12-01 (before the outbox) PostgreSQL lost 12 to 63 of
the 600 items in every one of 16 runs; SQLite lost none.

Event ids are treated as opaque strings. The reader knows it has seen everything it will
see when a sentinel item, written after every writer has finished, arrives: anything
committed before the sentinel must reach the reader before it.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from conftest import LiveServer, start_server, stop_server
from sse_client import frames

WRITERS = 4
ITEMS = 600
#: The reader drops its connection after a random number of events in this range.
DROP_AFTER = (0, 40)
#: Guards against a hang only; nothing asserts how long anything took.
GUARD_SECONDS = 240
#: The server's idle heartbeat. Once the sentinel is written, a connection that stays idle
#: for IDLE_HEARTBEATS heartbeats is dropped and resumed, like any other drop; after
#: IDLE_RESUMES of those the reader gives up waiting for the sentinel (a failure). Before
#: the outbox a resumed stream could hold back an item committed while it caught up until
#: the next write (seen on SQLite); IDLE_RESUMES = 0 makes that a failure, at the price of
#: bounding how long a committed item may take to arrive.
HEARTBEAT_SECONDS = 0.2
IDLE_HEARTBEATS = 5
IDLE_RESUMES = 10

SUBMIT = """
mutation($i: SubmitEvidenceInput!) {
  submitEvidence(input: $i) { evidence { id } errors { field message code } }
}
"""

pytestmark = pytest.mark.server


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """A live server whose write rate limit does not throttle the writers."""
    live = start_server(
        database_url, tmp_path / "server.log",
        extra_env={"ARCOS_WRITE_RATE_PER_MINUTE": "1000000", "ARCOS_WRITE_BURST": "1000000",
                   "ARCOS_SSE_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS)},
    )
    try:
        yield live
    finally:
        stop_server(live)


async def submit(http: httpx.AsyncClient, kind: str, n: int) -> str:
    """Submit one item through the GraphQL `submitEvidence` mutation; its evidence id."""
    body = {"query": SUBMIT,
            "variables": {"i": {"type": kind, "source": "outbox-test", "data": {"n": n}}}}
    response = await http.post("/graphql", json=body)
    assert response.status_code == 200, response.text
    payload = response.json()["data"]["submitEvidence"]
    assert payload["errors"] == [], payload
    return payload["evidence"]["id"]


@dataclass
class Reader:
    """An SSE reader that drops its connection at random points and resumes from the last
    event id it received, recording every evidence id in the order it arrived.

    It stops when the sentinel arrives. A connection left idle after the sentinel was
    written is dropped and resumed too (today a resume can hold back an item committed
    during its catch-up until the next write); if resuming does not bring the sentinel
    either, the reader gives up and `sentinel_missing` says so."""

    server: LiveServer
    rng: random.Random
    received: list[str] = field(default_factory=list)
    last_event_id: str | None = None
    reconnects: int = 0
    sentinel: str | None = None
    sentinel_missing: bool = False
    idle_resumes: int = 0
    live: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def expect_sentinel(self, evidence_id: str) -> None:
        """Name the item written last; its event may already have arrived."""
        self.sentinel = evidence_id
        if evidence_id in self.received:
            self.done.set()

    async def run(self) -> None:
        async with httpx.AsyncClient(headers=self.server.auth_headers, timeout=30) as http:
            while not self.done.is_set():
                await self._connection(http)

    async def _connection(self, http: httpx.AsyncClient) -> None:
        """One connection: read until it is time to drop (or the sentinel arrives)."""
        headers = {"last-event-id": self.last_event_id} if self.last_event_id else {}
        budget = self.rng.randint(*DROP_AFTER)
        if self.done.is_set():
            return
        async with http.stream("GET", f"{self.server.http_url}/api/v3/evidence/stream",
                               headers=headers) as response:
            assert response.status_code == 200, await response.aread()
            idle = 0
            async for frame in frames(response):
                if frame.get("comment") == "heartbeat" and self.sentinel is not None:
                    idle += 1
                    if idle >= IDLE_HEARTBEATS:
                        self.idle_resumes += 1
                        if self.idle_resumes > IDLE_RESUMES:
                            self.sentinel_missing = True
                            self.done.set()
                        return
                if frame.get("event") == "error":
                    raise AssertionError(f"the stream reported an error: {frame['data']}")
                if frame.get("event") != "evidence":
                    continue
                idle = 0
                self.received.append(frame["data"]["id"])
                self.last_event_id = frame["id"]
                self.live.set()
                if frame["data"]["id"] == self.sentinel:
                    self.done.set()
                    return
                budget -= 1
                if budget <= 0:  # after an event, so there is always an id to resume from
                    self.reconnects += 1
                    return


async def prove_stream_is_live(http: httpx.AsyncClient, reader: Reader) -> set[str]:
    """Write marker items until the reader receives one: from then on its subscription is
    in place and every later item must reach it. The markers' ids are returned."""
    markers: set[str] = set()
    while not reader.live.is_set():
        markers.add(await submit(http, "outbox-marker", len(markers)))
        try:
            await asyncio.wait_for(reader.live.wait(), 0.5)
        except TimeoutError:
            continue
    return markers


async def writer(server: LiveServer, index: int) -> list[str]:
    async with httpx.AsyncClient(base_url=server.http_url, headers=server.auth_headers,
                                 timeout=30) as http:
        return [await submit(http, "outbox-item", index * ITEMS + n)
                for n in range(ITEMS // WRITERS)]


async def race(server: LiveServer, seed: int) -> tuple[list[str], Reader, set[str]]:
    reader = Reader(server, random.Random(seed))
    reading = asyncio.create_task(reader.run())
    try:
        async with httpx.AsyncClient(base_url=server.http_url, headers=server.auth_headers,
                                     timeout=30) as http:
            markers = await prove_stream_is_live(http, reader)
            batches = await asyncio.gather(*(writer(server, i) for i in range(WRITERS)))
            reader.expect_sentinel(await submit(http, "outbox-sentinel", 0))
        await reading
    finally:
        reading.cancel()
        await asyncio.gather(reading, return_exceptions=True)
    return [item for batch in batches for item in batch], reader, markers


async def test_every_item_reaches_a_resuming_reader_exactly_once(server: LiveServer) -> None:
    seed = random.randrange(2**32)
    written, reader, markers = await asyncio.wait_for(race(server, seed), GUARD_SECONDS)
    assert len(set(written)) == ITEMS
    counts = Counter(reader.received)
    repeated = sorted(item for item, count in counts.items() if count > 1)
    missed = sorted(set(written) - set(counts))
    unknown = sorted(set(counts) - set(written) - markers - {reader.sentinel})
    context = (f"seed {seed}, {reader.reconnects} reconnects, {reader.idle_resumes} while "
               f"idle, {len(reader.received)} events received")
    assert not reader.sentinel_missing, f"the item written last never arrived ({context})"
    assert not missed, f"{len(missed)} of {ITEMS} items never arrived ({context}): {missed[:5]}"
    assert not repeated, f"{len(repeated)} items arrived more than once ({context})"
    assert not unknown, f"events for items nobody wrote ({context}): {unknown[:5]}"
    assert reader.reconnects > 0
