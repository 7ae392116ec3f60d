"""uvicorn's websocket protocol with a message size that is small until the app has
authenticated the socket, and a text frame that is not UTF-8 handed to the app as bytes.

Why here and not in the app: permessage-deflate inflates a frame inside the websockets
library, before any ASGI code sees it, and uvicorn gives one `ws_max_size` for the whole
life of a socket. A 15 KB compressed `connection_init` used to inflate to 15 MB and be
parsed before its token was looked at. The websockets parser reads `max_message_size` again
for every frame and bounds decompression by it, so lowering it until `connection_ack` makes
the pre-authentication bound real: a larger message is cut off while inflating and the socket
is closed with 1009 (message too big).

The app raises the limit through the `arcos.websocket.message_limit` scope extension (see
`raise_message_limit`); under another server the extension is absent and only uvicorn's
`ws_max_size` applies. The `arcos.websocket.writable` extension lets the app's send lane
(arcos/web/send_lane.py) wait for a slow reader's buffer to drain before taking its turn.

The `arcos.websocket.send_now` extension writes a text message at once, from whatever task
calls it, when the socket is open and its transport accepts writes — and refuses (returns
False) otherwise, so the caller falls back on the ASGI send. A subscription cohort uses it to
hand one event to a thousand sockets in one pass, as `websockets.broadcast` does, instead of
waking a thousand tasks to push the same bytes through the ASGI send one by one
(arcos/graphql/cohorts.py says when a member may take it without reordering its messages).

At graceful shutdown uvicorn calls each socket's `shutdown()`: this one closes with 1001
(going away) and a reason telling the client to reconnect, not uvicorn's bare 1012, and
tells the app that shutdown has begun (arcos/web/shutdown.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, MutableMapping
from contextlib import suppress
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.exceptions import InvalidState
from websockets.frames import CloseCode
from websockets.server import ServerProtocol

from arcos.settings import env_name
from arcos.web.shutdown import GOING_AWAY, GOING_AWAY_REASON, begin_draining

MESSAGE_LIMIT_EXTENSION = "arcos.websocket.message_limit"
#: The scope extension carrying the socket's "transport accepts writes" event (see
#: arcos/web/send_lane.py).
WRITABLE_EXTENSION = "arcos.websocket.writable"
#: The scope extension whose `text(data)` writes a UTF-8 text message now if it can.
SEND_NOW_EXTENSION = "arcos.websocket.send_now"
#: Close code for a message the app cannot read (the graphql-transport-ws "bad request"):
#: the app's, for a binary frame or a text frame that is not UTF-8 alike.
BAD_MESSAGE = 4400


class SizeLimitedServerProtocol(ServerProtocol):
    """websockets' server side, closing an oversized message with a reason that names the
    setting to raise instead of the library's byte counts."""

    #: The Settings field whose value `max_message_size` currently is.
    limit_setting = "ws_max_init_bytes"

    def fail(self, code: CloseCode | int, reason: str = "") -> None:
        if code == CloseCode.MESSAGE_TOO_BIG:
            reason = (
                f"message over {env_name(self.limit_setting)}={self.max_message_size} bytes"
            )
        super().fail(code, reason)


class ArcosWebSocketProtocol(WebSocketsSansIOProtocol):
    """`max_init_bytes` (ARCOS_WS_MAX_INIT_BYTES) bounds every message until the app calls
    the scope extension's `raise_to(n)`; uvicorn's `ws_max_size` (ARCOS_WS_MAX_MESSAGE_BYTES)
    caps what it may raise the bound to."""

    conn: SizeLimitedServerProtocol

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        max_init_bytes: int,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        # Same extensions and logger as uvicorn's, with the pre-ack bound and named refusals.
        self.conn = SizeLimitedServerProtocol(
            extensions=self.conn.available_extensions,
            max_size=min(max_init_bytes, config.ws_max_size),
            logger=self.conn.logger,
        )

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        # The ASGI task was created but has not run yet, so it sees the extension.
        scope = getattr(self, "scope", None)
        if scope is not None:
            scope["extensions"][MESSAGE_LIMIT_EXTENSION] = {"raise_to": self._raise_limit}
            scope["extensions"][WRITABLE_EXTENSION] = {"event": self.writable}
            scope["extensions"][SEND_NOW_EXTENSION] = {"text": self._send_text_now}

    def shutdown(self) -> None:
        """uvicorn's graceful-shutdown step for this socket, closing it with 1001 (going
        away) and a reason saying to reconnect, instead of uvicorn's 1012 without one
        (see arcos/web/shutdown.py). As uvicorn does, the app hears of it as a disconnect
        and the transport closes after the close frame is written."""
        begin_draining(self.app_state)
        if not self.handshake_complete or self.close_sent or self.disconnected:
            super().shutdown()
            return
        self.stop_keepalive()
        self.queue.put_nowait({"type": "websocket.disconnect", "code": GOING_AWAY})
        self.conn.send_close(GOING_AWAY, GOING_AWAY_REASON)
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.transport.close()

    def _raise_limit(self, max_bytes: int) -> None:
        self.conn.max_message_size = min(max_bytes, self.config.ws_max_size)
        self.conn.limit_setting = "ws_max_message_bytes"

    def _send_text_now(self, data: bytes) -> bool:
        """Frame `data` (UTF-8) as one text message and write it to the transport, when the
        socket is open, the app has not closed it, and the transport's buffer is under its
        high-water mark; False, writing nothing, otherwise. The same frame uvicorn's
        `websocket.send` would write (compressed when permessage-deflate was agreed), without
        a task switch: nothing here awaits."""
        if (
            not self.handshake_complete or self.close_sent or self.disconnected
            or self.initial_response is not None or not self.writable.is_set()
            or self.transport.is_closing()
        ):
            return False
        try:
            self.conn.send_text(data)
        except InvalidState:
            return False
        self.transport.write(b"".join(self.conn.data_to_send()))
        return True

    def send_receive_event_to_app(self) -> None:
        """uvicorn's delivery, except that a text message that is not UTF-8 reaches the app
        as bytes instead of closing the socket here (with a traceback in uvicorn's own code).
        The app refuses bytes with 4400 and a reason, and stays the only thing that closes
        the socket: a close from here raced the app's close of a message queued before it
        ("Unexpected ASGI message 'websocket.close'") or, after the close, made websockets
        refuse a second close ("Fatal error on transport"). Each message is decoded once."""
        data = b"".join(self.frames)
        self.frames = []
        if self.close_sent:
            # The app is past `websocket.close`: drop what the peer sends until its reply.
            return
        event: dict[str, Any] = {"type": "websocket.receive", "bytes": data}
        if self.curr_msg_data_type == "text":
            with suppress(UnicodeDecodeError):
                event = {"type": "websocket.receive", "text": data.decode()}
        self.queue.put_nowait(event)  # type: ignore[arg-type]  # an ASGI receive event
        if not self.read_paused:
            self.read_paused = True
            self.transport.pause_reading()


def writable_event(scope: MutableMapping[str, Any]) -> asyncio.Event | None:
    """The event that is set while the socket's transport accepts writes (cleared while its
    buffer is over the high-water mark), or None under another server."""
    extension = scope.get("extensions", {}).get(WRITABLE_EXTENSION)
    return None if extension is None else extension["event"]


def immediate_sender(scope: MutableMapping[str, Any]) -> Callable[[bytes], bool] | None:
    """The socket's `send_now` writer (see the module docstring), or None under another
    server."""
    extension = scope.get("extensions", {}).get(SEND_NOW_EXTENSION)
    return None if extension is None else extension["text"]


def raise_message_limit(scope: MutableMapping[str, Any], max_bytes: int) -> None:
    """Let an acknowledged socket send messages up to `max_bytes` (a no-op when the server
    does not run `ArcosWebSocketProtocol`)."""
    extension = scope.get("extensions", {}).get(MESSAGE_LIMIT_EXTENSION)
    if extension is not None:
        raise_to: Callable[[int], None] = extension["raise_to"]
        raise_to(max_bytes)
