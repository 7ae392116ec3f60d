"""Issue #9, items 4 and 5 (second half): responses are bounded by size, and one large event
to many subscribers is encoded once, not once per subscriber, and sent in turns that leave
other clients answered.

Both run against a real `arcos serve` while `HealthProbe` polls /healthz.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import multiprocessing
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import (
    LiveServer,
    issue_token_with_cli,
    running_app,
    start_server,
    stop_server,
)
from stall_probe import HealthProbe, memory_kib, peak_growth_mib
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from arcos.settings import Settings

MIB = 1024 * 1024
#: A build log and its timings; about 4.4 MB as canonical JSON.
LOG_LINES = 3200
TIMINGS = 60_000
LINE = ("PASSED tests/test_module.py::test_case[param-xyz] in 0.01s; " * 20)[:1000]


def large_report(tag: str = "") -> dict[str, Any]:
    """Text and floats: cheap to validate on write (few objects), but each JSON encoding
    of it (formatting every float) costs about a tenth of a second."""
    return {
        "tag": tag,
        "log": [f"{n:06d} {LINE}" for n in range(LOG_LINES)],
        "timings": [n / 7 for n in range(TIMINGS)],
    }


def canonical_size(value: Any) -> int:
    return len(json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())


@pytest.fixture
def bounded_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A SQLite server whose response bound (16 MiB) is below four stored 4.5 MB items."""
    server = start_server(
        f"sqlite://{tmp_path / 'arcos.db'}", tmp_path / "server.log",
        extra_env={"ARCOS_MAX_RESPONSE_BYTES": str(16 * MIB)},
    )
    try:
        yield server
    finally:
        stop_server(server)


def store(server: LiveServer, data: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(
        f"{server.http_url}/api/v1/evidence", headers=server.auth_headers, timeout=60,
        json={"type": "test_results", "source": "ci", "data": data},
    )
    assert response.status_code == 201, response.text[:500]
    return response.json()


ALIASED_LISTING = "query { " + " ".join(
    f"a{n}: evidenceConnection(first: 20) {{ nodes {{ data }} }}" for n in range(15)
) + " }"


def test_listing_past_the_response_bound_is_refused_before_it_is_built(
    bounded_server: LiveServer,
) -> None:
    server = bounded_server
    report = large_report()
    size = canonical_size(report)
    stored = [store(server, report) for _ in range(4)]
    reader = {"authorization": "Bearer " + issue_token_with_cli(
        server.database_url, "reader", "evidence:read"
    )}
    before = memory_kib(server.process.pid)
    with HealthProbe(server.http_url) as probe, httpx.Client(
        base_url=server.http_url, headers=reader, timeout=120
    ) as http:
        aliased = http.post("/graphql", json={"query": ALIASED_LISTING})
        over_get = http.get("/graphql", params={"query": ALIASED_LISTING})
        ndjson = http.get("/api/v3/evidence", params={"first": 20, "format": "ndjson"})
        csv = http.get("/api/v3/evidence", params={"first": 20, "format": "csv"})
        original = http.get("/api/evidence/list", params={"limit": 20})
    growth = peak_growth_mib(server.process.pid, before)
    print(f"\npeak memory growth {growth:.0f} MiB; /healthz worst {probe.worst:.3f} s")

    for response in (aliased, over_get):
        body = response.json()
        assert body["data"] is None, str(body)[:300]
        [error] = body["errors"]
        assert error["extensions"]["code"] == "RESPONSE_TOO_LARGE", error
        assert "ARCOS_MAX_RESPONSE_BYTES" in error["message"], error
        assert len(response.content) < 4096
    for response in (ndjson, csv, original):
        assert response.status_code == 400, response.text[:300]
        assert "RESPONSE_TOO_LARGE" in response.text
        assert len(response.content) < 4096
    # Refused before the values were loaded: 15 x 4 items would be 270 MB of data alone.
    assert growth < 96, f"peak memory rose {growth:.0f} MiB for a refused query"
    probe.assert_responsive()

    # Items within the bound still read in full; sizes are known without the data.
    with httpx.Client(base_url=server.http_url, headers=reader, timeout=120) as http:
        one = http.get(f"/api/v1/evidence/{stored[0]['id']}")
        sizes = http.post("/graphql", json={
            "query": "{ evidenceConnection(first: 20) { nodes { id dataSize } } }"
        }).json()
        listing = http.get("/api/v3/evidence", params={"first": 3}).json()
    assert one.status_code == 200
    assert one.json()["data"] == report
    assert [node["dataSize"] for node in sizes["data"]["evidenceConnection"]["nodes"]] == [
        size
    ] * 4
    assert [item["data"] for item in listing["items"]] == [report] * 3
    # An SSE client catching up over more than the bound gets every item, in smaller pages.
    assert [item["id"] for item in catch_up(server, reader, len(stored))] == [
        item["id"] for item in stored
    ]


def catch_up(server: LiveServer, headers: dict[str, str], count: int) -> list[dict[str, Any]]:
    from arcos.graphql.pagination import encode_cursor

    items: list[dict[str, Any]] = []
    with httpx.stream(
        "GET", f"{server.http_url}/api/v3/evidence/stream", timeout=60,
        headers={**headers, "last-event-id": encode_cursor("evidence", 0)},
    ) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            assert not line.startswith("event: error"), line
            if line.startswith("data: "):
                items.append(json.loads(line.removeprefix("data: ")))
                if len(items) == count:
                    break
    return items


SUBSCRIPTION = "subscription { evidenceAdded { id sha256 data } }"
SOCKETS = 3
#: What one 4.4 MB event to 200 subscribers may add to the server's peak memory.
FAN_OUT_GROWTH_CEILING_MIB = 250
SUBSCRIPTIONS_PER_SOCKET = 20


async def _subscriber(
    server: LiveServer, ready: asyncio.Event, count: list[int], sockets: int
) -> list[str]:
    """One socket with 20 subscriptions; returns the raw `next` message of each."""
    async with connect(
        server.ws_url, subprotocols=[Subprotocol("graphql-transport-ws")],
        max_size=None, compression=None,
    ) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": {
            "authorization": server.auth_headers["authorization"],
        }}))
        assert json.loads(await socket.recv())["type"] == "connection_ack"
        for n in range(SUBSCRIPTIONS_PER_SOCKET):
            await socket.send(json.dumps({
                "id": f"s{n:02d}", "type": "subscribe", "payload": {"query": SUBSCRIPTION},
            }))
        count[0] += 1
        if count[0] == sockets:
            ready.set()
        messages: list[str] = []
        while len(messages) < SUBSCRIPTIONS_PER_SOCKET:
            raw = await asyncio.wait_for(socket.recv(), 120)
            assert isinstance(raw, str)
            if raw.startswith('{"type":"ping"'):
                await socket.send('{"type":"pong"}')
                continue
            messages.append(raw)
        return messages


async def _fan_out(
    server: LiveServer, report: dict[str, Any], sockets: int
) -> tuple[list[str], float]:
    ready = asyncio.Event()
    count = [0]
    tasks = [
        asyncio.create_task(_subscriber(server, ready, count, sockets)) for _ in range(sockets)
    ]
    await asyncio.wait_for(ready.wait(), 60)
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient(base_url=server.http_url, timeout=60) as http:
        while (await http.get("/healthz")).json()["subscriptions"] < sockets * 20:
            assert time.monotonic() < deadline, "subscriptions did not start"
            await asyncio.sleep(0.05)
        started = time.perf_counter()
        response = await http.post(
            "/api/v1/evidence", headers=server.auth_headers,
            json={"type": "test_results", "source": "ci", "data": report},
        )
        assert response.status_code == 201, response.text[:300]
    results = await asyncio.gather(*tasks)
    return [raw for messages in results for raw in messages], time.perf_counter() - started


def _normalised(raw: str) -> str:
    """A `next` message with its subscription id (s00 .. s19) made s00."""
    at = raw.index('"id":"s')
    return raw[:at] + '"id":"s00"' + raw[at + 10:]


def fan_out_summary(server: LiveServer, sockets: int) -> dict[str, Any]:
    """Run the fan-out and check every delivery; in a child process, so that receiving
    hundreds of megabytes does not hold the GIL the /healthz probe thread needs."""
    report = large_report(tag="fan-out")
    messages, seconds = asyncio.run(_fan_out(server, report, sockets))
    item = json.loads(messages[0])["payload"]["data"]["evidenceAdded"]
    expected = _normalised(messages[0])
    return {
        "deliveries": len(messages),
        "data_matches": item["data"] == report,
        "all_identical": all(_normalised(raw) == expected for raw in messages),
        "seconds": seconds,
        "mib": len(messages[0].encode()) / MIB,
    }


def test_one_large_event_reaches_many_subscribers_without_stalling(
    sqlite_live_server: LiveServer,
) -> None:
    fan_out_and_probe(sqlite_live_server, SOCKETS)


def test_large_messages_to_many_subscribers_take_turns_with_other_clients(
    tmp_path: Path,
) -> None:
    """200 subscribers of one 4.4 MB event: each delivery costs a few copies of the
    message, and done back to back they kept /healthz waiting for seconds (3.5 s here, 10 s
    at 600 subscribers)."""
    server = start_server(
        f"sqlite://{tmp_path / 'arcos.db'}", tmp_path / "server.log",
        extra_env={"ARCOS_MAX_SUBSCRIPTIONS_PER_PRINCIPAL": "200"},
    )
    try:
        growth = fan_out_and_probe(server, 10)
    finally:
        stop_server(server)
    # One message in flight at a time: sends no longer pile up 200 copies at once
    # (+621 MiB before the lane, +89 MiB after).
    assert growth < FAN_OUT_GROWTH_CEILING_MIB, f"peak memory rose {growth:.0f} MiB"


def fan_out_and_probe(server: LiveServer, sockets: int) -> float:
    """`sockets` sockets of 20 subscribers in a child process receive one large write while
    the probe watches /healthz; every delivery is checked. Returns how far the server's
    peak memory rose, in MiB."""
    before = memory_kib(server.process.pid)
    with HealthProbe(server.http_url) as probe, ProcessPoolExecutor(
        1, mp_context=multiprocessing.get_context("fork")
    ) as pool:
        # Without its Popen, which cannot cross to the child.
        target = dataclasses.replace(server, process=None)
        summary = pool.submit(fan_out_summary, target, sockets).result(timeout=300)
    growth = peak_growth_mib(server.process.pid, before)
    print(f"\n{sockets} sockets: {summary}; /healthz worst {probe.worst:.3f} s; "
          f"peak memory +{growth:.0f} MiB")

    assert summary["deliveries"] == sockets * SUBSCRIPTIONS_PER_SOCKET
    assert summary["data_matches"]
    # Every subscriber got the same complete message, apart from its subscription id.
    assert summary["all_identical"]
    probe.assert_responsive()
    return growth


async def test_a_store_from_before_the_size_columns_gets_them_filled(settings: Any) -> None:
    """`generate_schemas(safe=True)` added no columns: adopting a store from before
    migrations (arcos/store/adoption.py) adds and fills them."""
    from tortoise import connections

    from arcos.db import store
    from arcos.evidence.models import Evidence

    async with running_app(settings) as app, app.client(app.admin_token) as http:
        for data in ({"n": 1}, {"text": "x" * 1000}):
            response = await http.post(
                "/api/v1/evidence", json={"type": "t", "source": "s", "data": data}
            )
            assert response.status_code == 201, response.text
        # Make the store look like one an older ARCOS created: no size columns, and no
        # migration history (the releases that lacked those columns had none).
        for statement in ("ALTER TABLE evidence DROP COLUMN data_size",
                          "ALTER TABLE evidence DROP COLUMN metadata_size",
                          "DROP TABLE tortoise_migrations"):
            await connections.get("default").execute_script(statement)
    async with store(settings):
        rows = await Evidence.all().order_by("seq").values_list("data_size", "metadata_size")
    # The stored text's length: canonical on SQLite, a few bytes over on PostgreSQL (jsonb
    # text has spaces), which only makes the bound stricter for these older rows.
    canonical = [len('{"n":1}'), len('{"text":""}') + 1000]
    assert [metadata for _, metadata in rows] == [2, 2]
    assert all(size <= stored <= size + 4 for (stored, _), size in zip(rows, canonical, strict=True))


def test_pre_encoded_values_are_spliced_and_cannot_be_imitated() -> None:
    from arcos.web.preencoded import PreEncodedJSON, dumps, encode

    inner = PreEncodedJSON('{"a":[1,"\\u00e9"]}')
    message = {"id": "s1", "payload": {"data": inner, "other": [inner, "x"]}}
    assert json.loads(dumps(message)) == {
        "id": "s1", "payload": {"data": {"a": [1, "é"]}, "other": [{"a": [1, "é"]}, "x"]},
    }
    # A client string shaped like a placeholder stays a string.
    assert json.loads(dumps({"v": "0:0", "w": inner})) == {"v": "0:0", "w": {"a": [1, "é"]}}
    assert dumps({"plain": 1}) == '{"plain":1}'
    # The size is known before anything is spliced, and never less than the text's.
    assert encode(message).size >= len(dumps(message)) > len(inner.text) * 2


@pytest.fixture
def impatient_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A SQLite server that buffers 3 events per subscriber before cutting it off."""
    server = start_server(
        f"sqlite://{tmp_path / 'arcos.db'}", tmp_path / "server.log",
        extra_env={"ARCOS_SUBSCRIBER_QUEUE_SIZE": "3"},
    )
    try:
        yield server
    finally:
        stop_server(server)


async def _open_subscriber(server: LiveServer, ids: list[str], max_queue: int) -> Any:
    """An acknowledged graphql-transport-ws socket subscribed once per id; `max_queue=1`
    makes a reader that stops reading the TCP stream once one message waits unread."""
    socket = await connect(
        server.ws_url, subprotocols=[Subprotocol("graphql-transport-ws")],
        max_size=None, compression=None, max_queue=max_queue,
    )
    await socket.send(json.dumps({"type": "connection_init", "payload": {
        "authorization": server.auth_headers["authorization"],
    }}))
    assert json.loads(await socket.recv())["type"] == "connection_ack"
    for operation_id in ids:
        await socket.send(json.dumps({
            "id": operation_id, "type": "subscribe", "payload": {"query": SUBSCRIPTION},
        }))
    return socket


async def test_a_reader_that_stops_reading_large_events_does_not_hold_up_the_others(
    impatient_server: LiveServer,
) -> None:
    """A socket whose client stops reading fills its buffers with the first large events;
    its subscriptions then wait for it to drain without holding the send lane, so a reading
    subscriber still gets every event, and the stuck ones are cut off as too slow."""
    server = impatient_server
    events = 12
    stuck = await _open_subscriber(server, ["stuck0", "stuck1"], max_queue=1)
    reader = await _open_subscriber(server, ["reader"], max_queue=16)
    try:
        async with httpx.AsyncClient(base_url=server.http_url, timeout=60) as http:
            deadline = time.monotonic() + 30
            while (await http.get("/healthz")).json()["subscriptions"] < 3:
                assert time.monotonic() < deadline, "subscriptions did not start"
                await asyncio.sleep(0.05)
            with HealthProbe(server.http_url) as probe:
                receiving = asyncio.create_task(_receive(reader, events))
                for n in range(events):
                    response = await http.post(
                        "/api/v1/evidence", headers=server.auth_headers,
                        json={"type": "test_results", "source": "ci",
                              "data": {"n": n, "blob": "x" * 2_000_000}},
                    )
                    assert response.status_code == 201, response.text[:300]
                received = await asyncio.wait_for(receiving, 60)
        numbers = [message["payload"]["data"]["evidenceAdded"]["data"]["n"] for message in received]
        assert numbers == list(range(events))
        probe.assert_responsive()
        # Once it reads again, the stuck socket learns that both its subscriptions fell behind.
        codes: list[str] = []
        while len(codes) < 2:
            message = json.loads(await asyncio.wait_for(stuck.recv(), 30))
            if message["type"] == "next" and message["payload"].get("errors"):
                codes.append(message["payload"]["errors"][0]["extensions"]["code"])
        assert codes == ["SUBSCRIBER_TOO_SLOW"] * 2
    finally:
        await stuck.close()
        await reader.close()


async def _receive(socket: Any, count: int) -> list[dict[str, Any]]:
    return [json.loads(await socket.recv()) for _ in range(count)]


async def test_every_field_of_a_mutation_shares_one_response_budget(tmp_path: Path) -> None:
    """A mutation refreshes its DataLoaders after writing, so later fields see the write;
    that must not hand each aliased field a fresh response allowance (fifteen aliases
    would make fifteen times ARCOS_MAX_RESPONSE_BYTES)."""
    settings = Settings(
        database_url=f"sqlite://{tmp_path / 'arcos.db'}", max_evidence_bytes=1500,
        max_response_bytes=3000,
    )
    submit = ('mutation($d: JSON!) { submitEvidence(input: {type: "t", source: "s", '
              'project: "github.com/a/b", data: $d}) { evidence { id } } }')
    async with running_app(settings) as app, app.client(app.admin_token) as http:
        ids = []
        for index in range(4):
            response = await http.post("/graphql", json={
                "query": submit, "variables": {"d": {"x": "y" * 900, "i": index}}})
            ids.append(response.json()["data"]["submitEvidence"]["evidence"]["id"])
        reads = ("relation { from { project { evidence(first: 3) { nodes { data } } } } } "
                 "errors { message }")
        links = " ".join(
            f'l{n}: linkEvidence(input: {{from: "{ids[0]}", to: "{ids[1]}", '
            f"relation: RELATES_TO}}) {{ {reads} }}"
            for n in range(5)
        )
        body = (await http.post("/graphql", json={"query": f"mutation {{ {links} }}"})).json()
    assert body["data"] is None, f"{len(json.dumps(body))} bytes answered past the bound"
    assert [error["extensions"]["code"] for error in body["errors"]] == ["RESPONSE_TOO_LARGE"]


async def test_non_ascii_data_is_counted_as_it_is_sent(tmp_path: Path) -> None:
    """Responses escape non-ASCII (`é` is 2 bytes stored, 6 sent): `dataSize` and the bound
    count what is sent, so non-ASCII data cannot pass the bound at three times its size."""
    settings = Settings(
        database_url=f"sqlite://{tmp_path / 'arcos.db'}", max_evidence_bytes=1500,
        max_response_bytes=3000,
    )
    data = {"text": "é😀" * 200}
    submit = ('mutation($d: JSON!) { submitEvidence(input: {type: "t", source: "s", data: $d}) '
              "{ evidence { dataSize } } }")
    async with running_app(settings) as app, app.client(app.admin_token) as http:
        sizes = []
        for _ in range(2):
            response = await http.post("/graphql", json={"query": submit, "variables": {"d": data}})
            sizes.append(response.json()["data"]["submitEvidence"]["evidence"]["dataSize"])
        listing = (await http.post("/graphql", json={
            "query": "{ evidenceConnection(first: 2) { nodes { data } } }"})).json()
    sent = json.dumps(data, sort_keys=True, separators=(",", ":"))  # ASCII-escaped
    assert sizes == [len(sent)] * 2
    assert len(json.dumps(data, ensure_ascii=False).encode()) * 2 < 3000 < len(sent) * 2
    assert [error["extensions"]["code"] for error in listing["errors"]] == ["RESPONSE_TOO_LARGE"]



#: Clients repeating listings at once, each in its own process (so the probe's process
#: does no client work): each old read decoded and re-encoded its items on the loop, so
#: /healthz waited behind all of them.
READERS = 6
ROUNDS = 3
#: Test cases per item: about 4.5 MB of small objects, which cost the old reads the most
#: (about 0.3 s per item to decode and encode again).
CASES = 55_000


def case_report(tag: str) -> dict[str, Any]:
    return {"tag": tag, "cases": [
        {"name": f"test_{n:06d}", "duration": n / 7, "passed": n % 3 > 0,
         "retries": [n % 5, n % 7]}
        for n in range(CASES)
    ]}
THREE_ITEMS = "{ evidenceConnection(first: 3) { nodes { id data metadata } } }"


def _reads(http: httpx.Client, one_id: str) -> list[tuple[str, httpx.Response]]:
    """One listing of three items over GraphQL and REST v3, and one item over REST v1."""
    return [
        ("graphql", http.post("/graphql", json={"query": THREE_ITEMS})),
        ("v3", http.get("/api/v3/evidence", params={"first": 3})),
        ("v1", http.get(f"/api/v1/evidence/{one_id}")),
    ]


def _read_repeatedly(base_url: str, headers: dict[str, str], one_id: str) -> list[int]:
    """The status of each read; the bodies are checked once, after the attack, so that
    parsing them here does not compete with the server for the CPU."""
    with httpx.Client(base_url=base_url, headers=headers, timeout=120) as http:
        return [response.status_code for _ in range(ROUNDS) for _, response in _reads(http, one_id)]


def test_reading_large_stored_items_does_not_decode_them_on_the_loop(
    live_server: LiveServer,
) -> None:
    """Stored `data` reaches GraphQL, REST v3 and /api/v1/evidence/{id} as the text the
    store holds, spliced into the response: repeated reads of large items leave /healthz
    answered, and what comes back is exactly what was stored (non-ASCII included)."""
    server = live_server
    reports = [case_report(f"item {n} café ✓ 𝄞") for n in range(4)]
    stored = [store(server, report) for report in reports]
    by_id = {item["id"]: report for item, report in zip(stored, reports, strict=True)}
    reader = {"authorization": "Bearer " + issue_token_with_cli(
        server.database_url, "reader", "evidence:read"
    )}

    with HealthProbe(server.http_url) as probe, ProcessPoolExecutor(
        READERS, mp_context=multiprocessing.get_context("fork")
    ) as pool:
        runs = [pool.submit(_read_repeatedly, server.http_url, reader, stored[1]["id"])
                for _ in range(READERS)]
        statuses = [status for run in runs for status in run.result()]
    print(f"\n/healthz worst {probe.worst:.3f} s over {len(statuses)} reads")
    assert statuses == [200] * READERS * ROUNDS * 3
    probe.assert_responsive()

    with httpx.Client(base_url=server.http_url, headers=reader, timeout=120) as http:
        for route, response in _reads(http, stored[1]["id"]):
            assert response.status_code == 200, route
            assert response.content.isascii(), route  # non-ASCII escaped, as elsewhere
            body = response.json()
            if route == "graphql":
                items = body["data"]["evidenceConnection"]["nodes"]
            else:
                items = body["items"] if route == "v3" else [body]
            assert len(items) == (1 if route == "v1" else 3), route
            for item in items:
                assert item["data"] == by_id[item["id"]], route  # exactly what was stored
                assert item["metadata"] == {}, route


def test_stored_text_is_escaped_as_every_other_message() -> None:
    """`ascii_text` of stored JSON equals `json.dumps`'s escaping of the decoded value."""
    from arcos.evidence.events import ascii_text

    value = {"k\u00e9y": ["caf\u00e9 \"\u2713\" \\ \U0001d11e", "\u2028", "plain"], "n": 1.5}
    stored = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    assert ascii_text(stored) == json.dumps(value, separators=(",", ":"))
    assert ascii_text("{\"a\":1}") == "{\"a\":1}"
