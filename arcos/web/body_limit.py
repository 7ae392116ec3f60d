"""Refuse request bodies over a size limit while they stream, never buffering them here.

The limit is counted on every chunk the app pulls from `receive`, so an over-limit body is
answered 413 whether or not the client sent Content-Length, nothing downstream ever holds
more than the limit, and a route that refuses a caller before reading the body (a bad or
missing token) never makes the server read or hold it at all.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from arcos.web.problems import problem
from arcos.web.scope_headers import scope_header


class BodyTooLarge(Exception):
    """Raised from `receive` once a body passes its limit; answered 413 here."""


class BodySizeLimit:
    """`max_bytes` for every path, except paths under a prefix in `prefix_limits` (webhook
    providers send up to 25 MB)."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, prefix_limits: dict[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.prefix_limits = prefix_limits or {}

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.prefix_limits.items():
            if path.startswith(prefix):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(scope, receive, send, limit)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if started:
                raise  # too late for a 413: let the server drop the connection
            await self._refuse(scope, receive, send, limit)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        setting = "ARCOS_MAX_BODY_BYTES" if limit == self.max_bytes else "its route's limit"
        response = problem(
            413,
            f"request body is larger than the {limit}-byte limit ({setting}); send less, "
            "or split it into several requests",
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


async def read_body(request: Request, limit: int) -> bytearray:
    """The whole body of `request` in one buffer, presized from Content-Length (at most
    `limit`, which `BodySizeLimit` enforces on what arrives) or grown chunk by chunk when
    there is none. Starlette's `Request.body()` holds every chunk and then their join (the
    body twice at once) and keeps the join for the request's life; this buffer is the
    caller's to empty as soon as it has decoded it."""
    declared = _declared_length(request.scope)
    buffer = bytearray(max(0, min(declared, limit)) if declared is not None else 0)
    filled = 0
    async for chunk in request.stream():
        end = filled + len(chunk)
        if end <= len(buffer):
            buffer[filled:end] = chunk
        else:  # more than declared (or nothing declared): grow
            del buffer[filled:]
            buffer += chunk
        filled = end
    del buffer[filled:]  # less than declared
    return buffer


def _declared_length(scope: Scope) -> int | None:
    value = scope_header(scope, b"content-length")
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None
