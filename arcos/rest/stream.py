"""GET /api/v3/evidence/stream: Server-Sent Events fed by the `evidenceAdded` subscription.

Each event's `id` is the evidence cursor. A client that reconnects with `Last-Event-ID`
first receives what it missed, read from the store through the ListEvidence operation,
then live events; a live event at or before the last one sent is skipped, so nothing is
delivered twice. Comment lines keep idle connections alive.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send
from strawberry.types import ExecutionResult

from arcos.auth.caller import Caller
from arcos.evidence.types import EVIDENCE_CURSOR
from arcos.graphql.errors import ArcosError, ErrorCode
from arcos.graphql.pagination import decode_cursor, encode_cursor
from arcos.graphql.preencoded import dumps
from arcos.rest.adapter import RestAdapter, refusal_response
from arcos.rest.outcome import data_or_refusal
from arcos.rest.request import RestCall
from arcos.web.connection_limits import Claim, ConnectionLimits, ConnectionRefused
from arcos.web.refusal import RestRefusal

CATCH_UP_PAGE = 100
_END = object()
_TOO_SLOW = object()


class EvidenceStream:
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
            last_seq = _seq(resume_from)
            claim = _claim_live(request, caller)
            stream = await self.adapter.subscribe("StreamEvidence", filters, caller, request)
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
        events = self._events(stream, caller, request, filters, last_seq)
        return ClaimedStreamingResponse(
            events,
            claim,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "API-Version": "v3"},
        )

    async def _events(
        self,
        stream: AsyncIterator[ExecutionResult],
        caller: Caller,
        request: Request,
        filters: dict[str, Any],
        last_seq: int | None,
    ) -> AsyncIterator[str]:
        size = self.adapter.settings.subscriber_queue_size
        live: asyncio.Queue[Any] = asyncio.Queue(maxsize=size + 1)
        pump = asyncio.create_task(_pump(stream, live, size))
        try:
            yield ": connected\n\n"
            if last_seq is not None:
                async for item in self._catch_up(caller, request, filters, last_seq, None):
                    last_seq = _seq(item["cursor"])
                    yield _frame("evidence", item, item["cursor"])
            gap_checked = last_seq is None
            while True:
                try:
                    result = await asyncio.wait_for(live.get(), self.heartbeat_seconds)
                except TimeoutError:
                    yield ": heartbeat\n\n"
                    continue
                if result is _END:
                    return
                if result is _TOO_SLOW:
                    yield _frame("error", {"errors": [{
                        "message": f"the client fell more than {size} events behind and the "
                        "stream was closed; reconnect with Last-Event-ID to resume",
                        "extensions": {"code": ErrorCode.SUBSCRIBER_TOO_SLOW.value},
                    }]}, None)
                    return
                if result.errors:
                    yield _frame("error", {"errors": [e.formatted for e in result.errors]}, None)
                    return
                item = result.data["evidenceAdded"]
                seq = _seq(item["cursor"])
                assert seq is not None
                if last_seq is not None and seq <= last_seq:
                    continue
                if not gap_checked:
                    # Evidence committed between the catch-up read and the subscription
                    # starting: read it from the store before the first live event.
                    gap_checked = True
                    async for missed in self._catch_up(caller, request, filters, last_seq, seq):
                        last_seq = _seq(missed["cursor"])
                        yield _frame("evidence", missed, missed["cursor"])
                last_seq = seq
                yield _frame("evidence", item, item["cursor"])
        finally:
            pump.cancel()
            await asyncio.gather(pump, return_exceptions=True)

    async def _catch_up(
        self,
        caller: Caller,
        request: Request,
        filters: dict[str, Any],
        after_seq: int | None,
        before_seq: int | None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Stored evidence after `after_seq` (and before `before_seq`), oldest first."""
        after = encode_cursor(EVIDENCE_CURSOR, after_seq) if after_seq is not None else None
        query_filter = {key: value for key, value in filters.items() if value is not None}
        first = CATCH_UP_PAGE
        while True:
            result = await self.adapter.execute(
                "ListEvidence",
                {"first": first, "after": after, "filter": query_filter, "order": "ASC"},
                caller, request,
            )
            if _too_large(result) and first > 1:
                first //= 2  # large items: smaller pages; any one item always fits
                continue
            page = data_or_refusal(result)["evidenceConnection"]
            for item in page["nodes"]:
                if before_seq is not None and (_seq(item["cursor"]) or 0) >= before_seq:
                    return
                yield item
            if not page["pageInfo"]["hasNextPage"]:
                return
            after = page["pageInfo"]["endCursor"]


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


async def _pump(
    stream: AsyncIterator[ExecutionResult], live: asyncio.Queue[Any], size: int
) -> None:
    """Move subscription results onto a bounded queue, so heartbeats can interleave with
    them; a client that does not read is cut off, like a slow websocket subscriber."""
    end: object = _END
    try:
        async for result in stream:
            if live.qsize() >= size:
                end = _TOO_SLOW
                return
            live.put_nowait(result)
    finally:
        if not live.full():
            live.put_nowait(end)
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()


def _too_large(result: ExecutionResult) -> bool:
    return any(
        (error.extensions or {}).get("code") == ErrorCode.RESPONSE_TOO_LARGE
        for error in result.errors or ()
    )


def _seq(cursor: str | None) -> int | None:
    try:
        return decode_cursor(EVIDENCE_CURSOR, cursor)
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
