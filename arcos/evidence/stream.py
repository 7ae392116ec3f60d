"""GET /api/v3/evidence/stream: Server-Sent Events fed by the `evidenceAdded` subscription.

Each event's `id` is the evidence cursor. A client that reconnects with `Last-Event-ID`
passes it to the subscription as `after`, which first replays what was committed since
from the outbox, in commit order, then continues live without repeating anything (see
arcos/store/resume.py). Comment lines keep idle connections alive.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from graphql import GraphQLSchema
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send
from strawberry.types import ExecutionResult

from arcos.auth.caller import Caller
from arcos.broker import refused
from arcos.evidence.types import EVIDENCE_CURSOR
from arcos.graphql.errors import ArcosError, ErrorCode
from arcos.graphql.pagination import decode_cursor
from arcos.rest.adapter import RestAdapter, refusal_response
from arcos.rest.openapi import ERROR_STATUSES, error_response
from arcos.rest.operations import PreparedOperation
from arcos.rest.outcome import data_or_refusal
from arcos.rest.request import RestCall
from arcos.web.connection_limits import Claim, ConnectionLimits, ConnectionRefused
from arcos.web.preencoded import dumps
from arcos.web.refusal import RestRefusal
from arcos.web.shutdown import SSE_GOODBYE, Draining

logger = logging.getLogger("arcos.rest")

#: Results waiting between the subscription and the client.
PUMP_QUEUE = 4
_END = object()
_HEARTBEAT = object()
_SHUTDOWN = object()


def stream_openapi(
    operations: dict[str, PreparedOperation], schema: GraphQLSchema
) -> dict[str, dict[str, Any]]:
    """The stream's OpenAPI path item (Domain.openapi_paths): it is no table row."""
    assert "StreamEvidence" in operations, "the stream runs evidence/rest.graphql's operation"
    return {"/api/v3/evidence/stream": {"get": {
        "operationId": "v3_stream_evidence",
        "summary": "Server-Sent Events of new evidence (`evidenceAdded`), resumable with "
        "Last-Event-ID.",
        "tags": ["v3"],
        "parameters": [
            {"name": "type", "in": "query", "required": False, "schema": {"type": "string"}},
            {"name": "project", "in": "query", "required": False, "schema": {"type": "string"}},
            {"name": "Last-Event-ID", "in": "header", "required": False,
             "schema": {"type": "string"}},
        ],
        "responses": {
            "200": {"description": "An endless text/event-stream; each `evidence` event's "
                    "data is one evidence object.",
                    "content": {"text/event-stream": {"schema": {"type": "string"}}}},
            **{status: error_response(text) for status, text in ERROR_STATUSES.items()
               if status in ("400", "401", "403")},
            "503": error_response("The shared event broker (Redis) is unreachable; retry "
                                  "after Retry-After, resuming with Last-Event-ID."),
        },
    }}}


def stream_routes(adapter: RestAdapter) -> list[BaseRoute]:
    """The evidence domain's own HTTP route: the SSE stream."""
    stream = EvidenceStream(adapter, adapter.settings.sse_heartbeat_seconds)
    return [Route("/api/v3/evidence/stream", stream.handle, methods=["GET"])]


class EvidenceStream:
    """Serves one SSE client from a StreamEvidence subscription run with its token."""

    def __init__(self, adapter: RestAdapter, heartbeat_seconds: float) -> None:
        self.adapter = adapter
        self.heartbeat_seconds = heartbeat_seconds

    async def handle(self, request: Request) -> Response:
        call = RestCall(request)
        claim: Claim | None = None
        try:
            caller = await self.adapter.caller(request)
            filters = {"type": call.text("type"), "project": call.text("project")}
            resume_from = request.headers.get("last-event-id") or call.text("last_event_id")
            _check_resume_id(resume_from)
            _check_broker(request)
            claim = _claim_live(request, caller)
            stream = await self.adapter.subscribe(
                "StreamEvidence", {**filters, "after": resume_from}, caller, request
            )
            if isinstance(stream, ExecutionResult):
                data_or_refusal(stream)
                raise RestRefusal(400, "the stream could not start", "BAD_REQUEST")
        except RestRefusal as refusal:
            if claim is not None:
                claim.release()
            response = refusal_response(refusal)
            response.headers["API-Version"] = "v3"
            return response
        except BaseException:
            if claim is not None:
                claim.release()
            raise
        return ClaimedStreamingResponse(
            self._events(stream, request.app.state.draining),
            claim,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "API-Version": "v3"},
        )

    async def _events(
        self, stream: AsyncIterator[ExecutionResult], draining: Draining
    ) -> AsyncIterator[str]:
        # A small queue between the subscription and the client: the subscription waits
        # while the client reads (a resume may replay thousands of stored items), and a
        # client that stops reading is cut off by the broker's queue behind it, with a
        # SUBSCRIBER_TOO_SLOW error, like a slow websocket subscriber.
        live: asyncio.Queue[Any] = asyncio.Queue(maxsize=PUMP_QUEUE)
        pump = asyncio.create_task(_pump(stream, live))
        # At shutdown the stream ends cleanly, so the server's wait for its connections
        # ends and the client reconnects (to another instance) with Last-Event-ID.
        shutdown = asyncio.create_task(draining.wait())
        try:
            yield ": connected\n\n"
            while True:
                result = await _next(live, shutdown, self.heartbeat_seconds)
                if result is _HEARTBEAT:
                    yield ": heartbeat\n\n"
                    continue
                if result is _SHUTDOWN:
                    yield SSE_GOODBYE
                    return
                if result is _END:
                    return
                if result.errors:
                    yield _frame("error", {"errors": [_for_sse(e.formatted)
                                                      for e in result.errors]}, None)
                    return
                item = result.data["evidenceAdded"]
                yield _frame("evidence", item, item["cursor"])
        finally:
            pump.cancel()
            shutdown.cancel()
            await asyncio.gather(pump, shutdown, return_exceptions=True)


async def _next(live: asyncio.Queue[Any], shutdown: asyncio.Task[None], idle: float) -> Any:
    """The next result from `live`; `_SHUTDOWN` once the server is shutting down (even
    with results waiting: the client resumes them from the store), `_HEARTBEAT` after
    `idle` seconds of neither."""
    if shutdown.done():
        return _SHUTDOWN
    if not live.empty():
        return live.get_nowait()
    getting = asyncio.ensure_future(live.get())
    done, _ = await asyncio.wait(
        (getting, shutdown), timeout=idle, return_when=asyncio.FIRST_COMPLETED
    )
    if getting in done:
        return getting.result()
    getting.cancel()
    return _SHUTDOWN if shutdown in done else _HEARTBEAT


def _check_broker(request: Request) -> None:
    """503 while the broker cannot carry events (the shared broker lost Redis): a stream
    opened now would stay silent; the client retries, resuming with Last-Event-ID."""
    problem = request.app.state.broker.unusable()
    if problem is not None:
        raise RestRefusal(503, str(refused(problem)), ErrorCode.BROKER_UNAVAILABLE.value,
                          headers={"Retry-After": "1"})


def _claim_live(request: Request, caller: Caller) -> Claim:
    """The stream's place in the caller's live-connection count, or 429 naming the setting."""
    limits: ConnectionLimits = request.app.state.connection_limits
    try:
        return limits.claim_live(caller, request.client.host if request.client else "unknown")
    except ConnectionRefused as refused:
        raise RestRefusal(429, refused.reason, ErrorCode.RATE_LIMITED.value) from None


class ClaimedStreamingResponse(StreamingResponse):
    """A stream that gives its live-connection place back however it ends."""

    def __init__(self, content: AsyncIterator[str], claim: Claim, **options: Any) -> None:
        super().__init__(content, **options)
        self.claim = claim

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.claim.release()


async def _pump(stream: AsyncIterator[ExecutionResult], live: asyncio.Queue[Any]) -> None:
    """Move subscription results onto `live`, so heartbeats can interleave with them, and
    end with `_END` however the subscription ends (unless the client left first)."""
    try:
        async for result in stream:
            await live.put(result)
    except Exception:
        logger.exception("the evidence stream's subscription failed")
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()
    await live.put(_END)


def _for_sse(error: dict[str, Any]) -> dict[str, Any]:
    """A subscription error as an SSE client should read it: a stream that fell behind
    resumes by reconnecting with Last-Event-ID, not by subscribing again."""
    code = (error.get("extensions") or {}).get("code")
    if code == ErrorCode.SUBSCRIBER_TOO_SLOW:
        return {**error, "message": "the client fell behind the events and the stream was "
                "closed; reconnect with Last-Event-ID to resume"}
    if code == ErrorCode.BROKER_UNAVAILABLE:
        return {**error, "message": "the server lost its shared event broker and closed "
                "the stream; reconnect with Last-Event-ID to resume (the events missed are "
                "read from the store)"}
    return error


def _check_resume_id(cursor: str | None) -> None:
    """Refuse a Last-Event-ID that is not an evidence cursor, naming the header."""
    try:
        decode_cursor(EVIDENCE_CURSOR, cursor)
    except ArcosError as error:
        raise RestRefusal(
            400, f"Last-Event-ID must be the id of an earlier event: {error}", "BAD_REQUEST"
        ) from None


def _frame(event: str, payload: Any, event_id: str | None) -> str:
    lines = [f"event: {event}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append("data: " + dumps(payload))
    return "\n".join(lines) + "\n\n"
