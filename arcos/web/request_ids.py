"""Every HTTP request and websocket gets an id: the client's `X-Request-ID` when it is a
sane token (arcos/request_id.py), a generated one otherwise. It is set in the contextvar
the log filter reads for as long as the request (or socket) is served, and returned in
the `X-Request-ID` response header: on every answer, errors and refusals included, since
this middleware wraps the whole app, Starlette's 500 handler too."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from arcos.request_id import CURRENT, request_id_from
from arcos.web.scope_headers import scope_header

HEADER = b"x-request-id"


class RequestIds:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = _header(scope, HEADER)
        request_id = request_id_from(given)
        header = (HEADER, request_id.encode("ascii"))
        starts = ("http.response.start", "websocket.accept", "websocket.http.response.start")

        async def send_with_id(message: Message) -> None:
            if message["type"] in starts:
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        token = CURRENT.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            CURRENT.reset(token)


def _header(scope: Scope, name: bytes) -> str | None:
    """The first value of header `name`, or None (also for one that is not ASCII)."""
    value = scope_header(scope, name)
    if value is None:
        return None
    try:
        return value.decode("ascii")
    except UnicodeDecodeError:
        return None
