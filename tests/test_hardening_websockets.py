"""Websocket hardening (issue #9, items 3, 5 and 10), each attack against a live server
while a second client polls /healthz.

3. Messages are bounded before authentication: a compressed `connection_init` cannot
   inflate past ARCOS_WS_MAX_INIT_BYTES, later messages past ARCOS_WS_MAX_MESSAGE_BYTES,
   compression is off unless ARCOS_WS_COMPRESSION is set, and one address cannot hold more
   than ARCOS_WS_MAX_PENDING_PER_ADDRESS sockets before connection_ack.
5. One principal holds at most ARCOS_MAX_LIVE_CONNECTIONS_PER_PRINCIPAL sockets, anonymous
   readers at most ARCOS_MAX_ANONYMOUS_LIVE_CONNECTIONS_PER_ADDRESS per address; closed sockets
   give their place back.
10. A message the server cannot read closes the socket with 4400 and a reason, in both
    protocols, and leaves no traceback in the log.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, suppress
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import LiveServer, start_server, stop_server
from stall_probe import HealthProbe, memory_kib, peak_growth_mib
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol
from ws_client import (
    PROTOCOLS,
    TIMEOUT,
    TRANSPORT_WS,
    Api,
    SubscriptionClient,
    bearer,
)

from arcos.settings import Settings, SettingsError

pytestmark = pytest.mark.server

#: Bytes of padding in each hostile connection_init: compresses to a few KiB.
BOMB_BYTES = 6 * 1024 * 1024
BOMB_SOCKETS = 20
#: What the whole bomb attack may add to the server's peak memory once refused.
BOMB_GROWTH_CEILING_MIB = 40


def assert_no_traceback(server: LiveServer, since: int = 0) -> None:
    """No traceback in the server's log (from character `since` on: a shared server)."""
    log = server.log()[since:]
    assert "Traceback" not in log, log[-4000:]
    assert "Exception in ASGI application" not in log, log[-4000:]
    assert "Fatal error" not in log, log[-4000:]


def serve(tmp_path: Path, **env: str) -> LiveServer:
    """A live SQLite server with `env` (ARCOS_* variables) on top of the defaults."""
    return start_server(
        f"sqlite://{tmp_path / 'arcos.db'}", tmp_path / "server.log", extra_env=env
    )


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        yield client


async def open_socket(
    server: LiveServer, protocol: str = TRANSPORT_WS, *, compression: str | None = None
) -> SubscriptionClient:
    """A websocket that has sent nothing yet; the caller closes it (or the stack does)."""
    websocket = await connect(
        server.ws_url, subprotocols=[Subprotocol(protocol)], open_timeout=TIMEOUT,
        close_timeout=2, compression=compression, max_size=None,
    )
    return SubscriptionClient(websocket, protocol)


async def close_code(client: SubscriptionClient) -> tuple[int | None, str | None]:
    """The server's close code and reason, or (None, None) if it acknowledged instead."""
    try:
        message = await client.receive()
    except ConnectionClosed as closed:
        return (closed.rcvd.code, closed.rcvd.reason) if closed.rcvd else (None, None)
    if message.get("type") == "connection_error":
        return await client.expect_close()
    assert message.get("type") == "connection_ack", message
    return None, None


async def init(client: SubscriptionClient, token: str | None) -> tuple[int | None, str | None]:
    """Send connection_init (with `token`); (None, None) when acknowledged, else the close."""
    message: dict[str, Any] = {"type": "connection_init"}
    if token is not None:
        message["payload"] = bearer(token)
    await client.send(message)
    return await close_code(client)


# 3. Messages before connection_ack are bounded -------------------------------------------


@pytest.fixture
def compressing_server(tmp_path: Path) -> Iterator[LiveServer]:
    server = serve(tmp_path, ARCOS_WS_COMPRESSION="true")
    try:
        yield server
    finally:
        stop_server(server)


async def test_compressed_connection_init_bomb_is_refused_before_it_inflates(
    compressing_server: LiveServer,
) -> None:
    """20 sockets each send a ~6 KiB deflated connection_init that inflates to 6 MiB. It
    used to be inflated, decoded and parsed before the token was looked at (hundreds of
    MB); now inflating stops at ARCOS_WS_MAX_INIT_BYTES and the socket closes with 1009."""
    server = compressing_server
    bomb = json.dumps({
        "type": "connection_init",
        "payload": {"authorization": "Bearer arcos_not_a_token", "pad": "a" * BOMB_BYTES},
    })
    before = memory_kib(server.process.pid)

    async def attack() -> tuple[int | None, str | None]:
        client = await open_socket(server, compression="deflate")
        try:
            await client.websocket.send(bomb)
            return await close_code(client)
        finally:
            await client.websocket.close()

    with HealthProbe(server.http_url) as probe:
        closes = await asyncio.gather(*(attack() for _ in range(BOMB_SOCKETS)))
    growth = peak_growth_mib(server.process.pid, before)
    print(f"bomb: peak growth {growth:.1f} MiB, worst /healthz {probe.worst:.3f} s")

    assert {code for code, _ in closes} == {1009}, closes
    assert "ARCOS_WS_MAX_INIT_BYTES=8192" in (closes[0][1] or ""), closes[0]
    assert growth < BOMB_GROWTH_CEILING_MIB, f"peak memory grew {growth:.0f} MiB"
    probe.assert_responsive()
    # A real client still gets in, with compression.
    client = await open_socket(server, compression="deflate")
    try:
        assert await init(client, server.token) == (None, None)
    finally:
        await client.websocket.close()
    assert_no_traceback(server)


def test_init_limit_cannot_exceed_the_message_limit() -> None:
    """A pre-ack bound above the post-ack one would be silently lowered; refuse it."""
    with pytest.raises(SettingsError, match=r"ARCOS_WS_MAX_INIT_BYTES .* must not exceed"):
        Settings.from_env(
            {"ARCOS_WS_MAX_INIT_BYTES": "2048", "ARCOS_WS_MAX_MESSAGE_BYTES": "1024"}
        )


@pytest.fixture
def small_messages_server(tmp_path: Path) -> Iterator[LiveServer]:
    server = serve(
        tmp_path, ARCOS_WS_MAX_INIT_BYTES="1024", ARCOS_WS_MAX_MESSAGE_BYTES="65536",
        ARCOS_WS_MAX_PENDING_PER_ADDRESS="3",
    )
    try:
        yield server
    finally:
        stop_server(server)


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_message_size_is_capped_before_and_after_connection_ack(
    small_messages_server: LiveServer, protocol: str
) -> None:
    """Before connection_ack a message may have ARCOS_WS_MAX_INIT_BYTES (uncompressed too),
    after it ARCOS_WS_MAX_MESSAGE_BYTES; a larger one closes the socket with 1009."""
    server = small_messages_server
    client = await open_socket(server, protocol)
    try:
        await client.send({"type": "connection_init", "payload": {"pad": "x" * 2048}})
        code, reason = await close_code(client)
        assert code == 1009 and "ARCOS_WS_MAX_INIT_BYTES=1024" in (reason or ""), reason
    finally:
        await client.websocket.close()

    client = await open_socket(server, protocol)
    try:
        assert await init(client, server.token) == (None, None)
        # After the ack a subscribe may be far larger than the init limit...
        padding = "#" + "x" * 30_000 + "\n"
        await client.subscribe("big", query=padding + "subscription { evidenceAdded { id } }")
        await client.expect_silence(0.3)
        # ...but not larger than the message limit.
        await client.subscribe("huge", query="#" + "x" * 70_000 + "\n{ __typename }")
        code, reason = await client.expect_close()
        assert code == 1009 and "ARCOS_WS_MAX_MESSAGE_BYTES=65536" in (reason or ""), reason
    finally:
        await client.websocket.close()
    assert_no_traceback(server)


async def test_compression_is_off_unless_configured(
    sqlite_live_server: LiveServer, compressing_server: LiveServer
) -> None:
    """permessage-deflate costs CPU per subscriber per event and lets input inflate, so a
    default server does not offer it; ARCOS_WS_COMPRESSION=true does."""

    async def extensions(server: LiveServer) -> list[str]:
        client = await open_socket(server, compression="deflate")
        try:
            assert client.websocket.response is not None
            return client.websocket.response.headers.get_all("Sec-WebSocket-Extensions")
        finally:
            await client.websocket.close()

    assert await extensions(sqlite_live_server) == []
    assert any("permessage-deflate" in value for value in await extensions(compressing_server))


async def test_pending_sockets_per_address_are_capped_and_released(
    small_messages_server: LiveServer,
) -> None:
    """Sockets that never send connection_init hold a place each (for up to
    ARCOS_WS_INIT_TIMEOUT_SECONDS); past ARCOS_WS_MAX_PENDING_PER_ADDRESS the next one is
    closed with 4429. Acknowledged and closed sockets give their place back."""
    server = small_messages_server
    async with AsyncExitStack() as stack:

        async def pending() -> SubscriptionClient:
            client = await open_socket(server)
            stack.push_async_callback(client.websocket.close)
            return client

        first, second, _third = [await pending() for _ in range(3)]
        code, reason = await (await pending()).expect_close()
        assert code == 4429 and "ARCOS_WS_MAX_PENDING_PER_ADDRESS=3" in (reason or ""), reason

        # A closed socket gives its place back...
        await second.websocket.close()
        replacement = await pending()
        # ...and so does an acknowledged one, which no longer counts as pending.
        assert await init(first, server.token) == (None, None)
        fourth = await pending()
        for client in (replacement, fourth):
            assert await init(client, server.token) == (None, None)
    assert_no_traceback(server)


# 5. Sockets per principal and per anonymous address ---------------------------------------


@pytest.fixture
def capped_server(tmp_path: Path) -> Iterator[LiveServer]:
    server = serve(
        tmp_path, ARCOS_MAX_LIVE_CONNECTIONS_PER_PRINCIPAL="3",
        ARCOS_MAX_ANONYMOUS_LIVE_CONNECTIONS_PER_ADDRESS="2", ARCOS_ANONYMOUS_READ="true",
        # The flood comes from one address; this test is about the per-principal count.
        ARCOS_WS_MAX_PENDING_PER_ADDRESS="200",
    )
    try:
        yield server
    finally:
        stop_server(server)


async def test_one_token_cannot_open_a_flood_of_sockets(
    capped_server: LiveServer, http: httpx.AsyncClient
) -> None:
    """One read token tries 120 sockets with 20 subscriptions each: three are admitted, the
    rest closed with 4429 naming ARCOS_MAX_LIVE_CONNECTIONS_PER_PRINCIPAL, in both protocols.
    Another principal is not affected, and a closed socket gives its place back."""
    server = capped_server
    api = Api(http, server.http_url, server.ws_url, server.token)
    reader = await api.issue_token("flood-reader", "evidence:read")

    async with AsyncExitStack() as stack:

        async def attempt(index: int) -> tuple[SubscriptionClient, tuple[int | None, str | None]]:
            client = await open_socket(server, PROTOCOLS[index % 2])
            stack.push_async_callback(client.websocket.close)
            outcome = await init(client, reader)
            if outcome == (None, None):
                for n in range(20):
                    await client.subscribe(f"s{n}")
            return client, outcome

        with HealthProbe(server.http_url) as probe:
            results = await asyncio.gather(*(attempt(i) for i in range(120)))
        print(f"flood: worst /healthz {probe.worst:.3f} s")
        probe.assert_responsive()

        admitted = [client for client, outcome in results if outcome == (None, None)]
        refusals = [outcome for _, outcome in results if outcome != (None, None)]
        assert len(admitted) == 3, f"{len(admitted)} sockets admitted for one token"
        assert all(
            code == 4429 and "ARCOS_MAX_LIVE_CONNECTIONS_PER_PRINCIPAL=3" in (reason or "")
            for code, reason in refusals
        ), refusals[:3]
        await api.wait_for_subscriptions(60)

        # The admin is another principal: still admitted.
        admin = await open_socket(server)
        stack.push_async_callback(admin.websocket.close)
        assert await init(admin, server.token) == (None, None)

        # Closing one socket (cleanly) and dropping another (TCP only) frees two places.
        await admitted[0].websocket.close()
        admitted[1].abort()
        await api.wait_for_subscriptions(20)
        for protocol in PROTOCOLS:
            again = await open_socket(server, protocol)
            stack.push_async_callback(again.websocket.close)
            assert await init(again, reader) == (None, None)
    assert_no_traceback(server)


async def test_sse_streams_share_the_principal_count(
    capped_server: LiveServer, http: httpx.AsyncClient
) -> None:
    """An SSE stream is a live connection too: with two websockets and one stream open, a
    second stream gets 429 and a third websocket 4429; closing the stream frees its place."""
    server = capped_server
    api = Api(http, server.http_url, server.ws_url, server.token)
    reader = await api.issue_token("stream-reader", "evidence:read")
    url = f"{server.http_url}/api/v3/evidence/stream"
    headers = {"authorization": f"Bearer {reader}"}
    async with AsyncExitStack() as stack:
        for protocol in PROTOCOLS:
            client = await open_socket(server, protocol)
            stack.push_async_callback(client.websocket.close)
            assert await init(client, reader) == (None, None)
        async with http.stream("GET", url, headers=headers) as stream:
            assert stream.status_code == 200
            refused = await http.get(url, headers=headers)
            assert refused.status_code == 429, refused.text
            error = refused.json()["errors"][0]
            assert "ARCOS_MAX_LIVE_CONNECTIONS_PER_PRINCIPAL=3" in error["message"], error
            socket = await open_socket(server)
            stack.push_async_callback(socket.websocket.close)
            assert (await init(socket, reader))[0] == 4429
        # The stream is closed: its place is free again (the server notices the hang-up).
        for _ in range(50):
            late = await open_socket(server)
            stack.push_async_callback(late.websocket.close)
            if await init(late, reader) == (None, None):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the closed SSE stream never gave its place back")
    assert_no_traceback(server)


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_anonymous_readers_are_capped_per_address(
    capped_server: LiveServer, protocol: str
) -> None:
    """With ARCOS_ANONYMOUS_READ, sockets without a token count per client address."""
    server = capped_server
    async with AsyncExitStack() as stack:
        outcomes = []
        for _ in range(3):
            client = await open_socket(server, protocol)
            stack.push_async_callback(client.websocket.close)
            outcomes.append(await init(client, None))
        assert outcomes[:2] == [(None, None), (None, None)]
        code, reason = outcomes[2]
        assert code == 4429, outcomes
        assert "ARCOS_MAX_ANONYMOUS_LIVE_CONNECTIONS_PER_ADDRESS" in (reason or ""), reason
        # A token holder from the same address is counted separately.
        holder = await open_socket(server, protocol)
        stack.push_async_callback(holder.websocket.close)
        assert await init(holder, server.token) == (None, None)
    assert_no_traceback(server)


# 10. Unreadable messages close with 4400 --------------------------------------------------


@pytest.fixture(scope="module")
def plain_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One default server shared by the malformed-message cases."""
    server = serve(tmp_path_factory.mktemp("malformed"))
    try:
        yield server
    finally:
        stop_server(server)


SUBSCRIPTION = "subscription { evidenceAdded { id } }"


def subscribe(**message: Any) -> str:
    return json.dumps(message)


#: (case, frame, sent as a text frame?, sent after connection_ack?). Frames sent before the
#: ack stay under ARCOS_WS_MAX_INIT_BYTES, so it is the content that is refused, not the size.
BAD_MESSAGES: list[tuple[str, str | bytes, bool, bool]] = [
    ("not-json", "{type: connection_init", True, False),
    ("deeply-nested", '{"type": "connection_init", "payload": {"a": ' + "[" * 3000
     + "]" * 3000 + "}}", True, False),
    ("deeply-nested-after-ack", "[" * 200_000 + "]" * 200_000, True, True),
    ("json-array", "[]", True, False),
    ("json-string", '"connection_init"', True, False),
    ("json-number", "42", True, True),
    ("json-null", "null", True, True),
    ("huge-integer", '{"type": "connection_init", "payload": {"n": ' + "9" * 5000 + "}}",
     True, False),
    ("binary-frame", b'{"type": "connection_init"}', False, False),
    ("invalid-utf8", b'{"type": "connection_init", "payload": {"a": "\xff\xfe"}}', True,
     False),
    ("type-is-a-number", '{"type": 1}', True, False),
    ("id-is-a-number", subscribe(type="subscribe", id=5, payload={"query": SUBSCRIPTION}),
     True, True),
    ("id-is-an-object", subscribe(type="stop", id={"a": 1}), True, True),
    ("missing-id", subscribe(type="start", payload={"query": SUBSCRIPTION}), True, True),
    ("payload-is-a-string", subscribe(type="subscribe", id="1", payload="q"), True, True),
    ("missing-payload", subscribe(type="start", id="1"), True, True),
    ("query-is-a-number", subscribe(type="start", id="1", payload={"query": 1}), True, True),
    ("variables-is-a-list", subscribe(
        type="subscribe", id="1", payload={"query": SUBSCRIPTION, "variables": [1]}
    ), True, True),
    ("init-payload-is-a-list", subscribe(type="connection_init", payload=[1]), True, False),
]


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize(
    ("frame", "text", "after_ack"),
    [pytest.param(frame, text, after_ack, id=case)
     for case, frame, text, after_ack in BAD_MESSAGES],
)
async def test_unreadable_message_closes_with_4400_and_no_traceback(
    plain_server: LiveServer, protocol: str, frame: str | bytes, text: bool, after_ack: bool
) -> None:
    server = plain_server
    log_start = len(server.log())
    client = await open_socket(server, protocol)
    try:
        if after_ack:
            assert await init(client, server.token) == (None, None)
        await client.websocket.send(frame, text=text)
        code, reason = await client.expect_close()
    finally:
        await client.websocket.close()
    assert code == 4400 and reason, (code, reason)
    assert_no_traceback(server, since=log_start)
    # The server is unharmed: a well-formed client still subscribes.
    healthy = await open_socket(server, protocol)
    try:
        assert await init(healthy, server.token) == (None, None)
        await healthy.subscribe("ok")
        await healthy.expect_silence(0.1)
    finally:
        await healthy.websocket.close()


# A text frame that is not UTF-8 next to a message the app refuses: the app stays the only
# thing that closes the socket, so neither close races the other into a traceback.

#: Frame opcodes (RFC 6455 section 5.2).
TEXT, CLOSE = 0x1, 0x8
INVALID_UTF8 = b"\xff\xfe"


def client_frame(opcode: int, payload: bytes) -> bytes:
    """One final, masked client frame. The all-zero mask leaves the payload as it is, and
    lets a text frame carry bytes that are not UTF-8, which websockets' client refuses."""
    assert len(payload) < 126
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + bytes(4) + payload


class RawSocket:
    """A websocket spoken frame by frame over a plain TCP connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, server: LiveServer, protocol: str) -> RawSocket:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            f"GET /graphql HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Protocol: {protocol}\r\n\r\n".encode()
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
        assert head.startswith(b"HTTP/1.1 101"), head
        return cls(reader, writer)

    def write(self, *frames: bytes) -> None:
        """All `frames` in one TCP write."""
        self.writer.write(b"".join(frames))

    async def read_close(self) -> tuple[int, str]:
        """The server's close code and reason (it sends nothing else to a socket that never
        sent connection_init)."""
        first, length = await asyncio.wait_for(self.reader.readexactly(2), TIMEOUT)
        assert first & 0x0F == CLOSE and length < 126, (first, length)
        payload = await self.reader.readexactly(length)
        return struct.unpack("!H", payload[:2])[0], payload[2:].decode()

    async def finish(self, code: int) -> None:
        """Answer the server's close with `code` and wait until it drops the connection (a
        reset too: the old code aborted it; the log says why)."""
        self.write(client_frame(CLOSE, struct.pack("!H", code)))
        with suppress(ConnectionResetError):
            await asyncio.wait_for(self.reader.read(), TIMEOUT)
        self.writer.close()


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("after_close", [False, True], ids=["same-write", "after-close"])
async def test_invalid_utf8_after_a_refused_message_leaves_no_traceback(
    plain_server: LiveServer, http: httpx.AsyncClient, protocol: str, after_close: bool
) -> None:
    """"not json" then a text frame that is not UTF-8, in one TCP write or after the 4400
    close. The protocol used to close the socket itself for the second frame: the app then
    closed it again ("Unexpected ASGI message 'websocket.close'") or, after the close, the
    library refused to close twice ("Fatal error on transport"), each with a traceback."""
    server = plain_server
    log_start = len(server.log())
    socket = await RawSocket.open(server, protocol)
    refused = client_frame(TEXT, b"not json")
    invalid = client_frame(TEXT, INVALID_UTF8)
    if after_close:
        socket.write(refused)
        code, reason = await socket.read_close()
        socket.write(invalid)
    else:
        socket.write(refused, invalid)
        code, reason = await socket.read_close()
    await socket.finish(code)
    assert code == 4400 and reason, (code, reason)
    # The log is written by the server's loop: a request it answers comes after the frames.
    assert (await http.get(f"{server.http_url}/healthz")).status_code == 200
    assert_no_traceback(server, since=log_start)


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_invalid_utf8_text_frame_is_refused_by_name(
    plain_server: LiveServer, protocol: str
) -> None:
    """A lone text frame that is not UTF-8 closes with 4400 and a reason that says so."""
    log_start = len(plain_server.log())
    socket = await RawSocket.open(plain_server, protocol)
    socket.write(client_frame(TEXT, INVALID_UTF8))
    code, reason = await socket.read_close()
    await socket.finish(code)
    assert code == 4400 and "UTF-8" in reason, (code, reason)
    assert_no_traceback(plain_server, since=log_start)
