"""Graceful shutdown of a real `arcos serve` on SIGTERM/SIGINT (arcos/web/shutdown.py).

What a client behind a load balancer must see when an instance is stopped: its open
subscriptions end with close code 1001 and a reason telling it to reconnect (both
websocket protocols), its SSE stream ends cleanly (a last comment, then the end of the
body, so EventSource reconnects with Last-Event-ID), a request already in flight still
gets its answer, and the process exits 0, before the grace period would cancel anything.
"""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import httpx
import pytest
from conftest import LiveServer, start_server, stop_server
from sse_client import frames
from ws_client import LEGACY_WS, TIMEOUT, TRANSPORT_WS, ws_connect

from arcos.web.shutdown import GOING_AWAY, GOING_AWAY_REASON

#: A wait for the process, not a measurement: it bounds a hang.
EXIT_WAIT = 60


async def _send_request_head(port: int, token: str, body: bytes, sent: int) -> tuple[
    asyncio.StreamReader, asyncio.StreamWriter
]:
    """Start POST /api/v1/evidence with its headers and the first `sent` bytes of `body`,
    returning once the app reads the body: `Expect: 100-continue` makes the server say so
    (a request the server has not even read yet is not in flight)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        "POST /api/v1/evidence HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n"
    ).encode()
    writer.write(head)
    await writer.drain()
    assert await _status_of_response(reader) == 100
    assert await asyncio.wait_for(reader.readline(), TIMEOUT) == b"\r\n"
    writer.write(body[:sent])
    await writer.drain()
    return reader, writer


async def _status_of_response(reader: asyncio.StreamReader) -> int:
    status_line = await asyncio.wait_for(reader.readline(), TIMEOUT)
    return int(status_line.split()[1])


def _wait_exit(server: LiveServer) -> int:
    return server.process.wait(timeout=EXIT_WAIT)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
async def test_shutdown_closes_sockets_with_1001_ends_sse_and_finishes_requests(
    database_url: str, tmp_path: Path, stop_signal: signal.Signals
) -> None:
    server = start_server(database_url, tmp_path / "server.log",
                          extra_env={"ARCOS_SHUTDOWN_GRACE_SECONDS": "120"})
    try:
        body = json.dumps({"type": "build", "source": "jenkins", "project": "acme/app",
                           "data": {"status": "success"}}).encode()
        async with (
            ws_connect(server.ws_url, TRANSPORT_WS, token=server.token) as modern,
            ws_connect(server.ws_url, LEGACY_WS, token=server.token) as legacy,
            httpx.AsyncClient(base_url=server.http_url, headers=server.auth_headers,
                              timeout=TIMEOUT) as http,
            http.stream("GET", "/api/v3/evidence/stream") as sse,
        ):
            await modern.subscribe("m1")
            await legacy.subscribe("l1")
            assert sse.status_code == 200
            events = frames(sse)
            assert await anext(events) == {"comment": "connected"}
            # A request in flight: headers and half its body sent before the signal.
            reader, writer = await _send_request_head(
                server.port, server.token, body, len(body) // 2
            )

            server.process.send_signal(stop_signal)

            for client in (modern, legacy):
                code, reason = await client.expect_close()
                assert code == GOING_AWAY, (code, reason)
                assert reason == GOING_AWAY_REASON
                assert "reconnect" in (reason or "")
            rest = [frame async for frame in events]  # ends: the body is complete
            assert rest[-1] == {
                "comment": "server shutting down; reconnect with Last-Event-ID to resume"
            }
            # The server is shutting down, and still finishes the request in flight.
            writer.write(body[len(body) // 2:])
            await writer.drain()
            assert await _status_of_response(reader) == 201
            writer.close()
        assert _wait_exit(server) == 0, server.log()
        log = server.log()
        assert "graceful shutdown exceeded" not in log
        assert "Traceback" not in log, log
    finally:
        stop_server(server)


def test_a_request_past_the_grace_period_is_cancelled_and_the_process_still_exits(
    tmp_path: Path,
) -> None:
    """A request that never completes holds shutdown only for ARCOS_SHUTDOWN_GRACE_SECONDS."""
    server = start_server(f"sqlite://{tmp_path / 'arcos.db'}", tmp_path / "server.log",
                          extra_env={"ARCOS_SHUTDOWN_GRACE_SECONDS": "1",
                                     "ARCOS_LOG_LEVEL": "info"})

    async def hang_then_stop() -> None:
        _, writer = await _send_request_head(server.port, server.token, b"{" * 100, 10)
        server.process.send_signal(signal.SIGTERM)
        await asyncio.to_thread(_wait_exit, server)
        writer.close()

    try:
        asyncio.run(hang_then_stop())
        assert server.process.returncode == 0, server.log()
        assert "graceful shutdown exceeded" in server.log()
    finally:
        stop_server(server)
