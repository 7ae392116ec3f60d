"""strawberry's websocket plumbing with ARCOS's refusals.

- The handlers refuse operations past the per-connection cap with a coded error naming the
  limit, instead of strawberry's bare "Subscription limit reached", and close a socket the
  per-principal limits refuse at connection_init with 4429 and a reason naming the setting.
- The adapter checks every message (`ws_messages.read_message`) and closes the socket with
  4400 and a reason for one it cannot read, in both protocols, instead of a traceback.
- The adapter sends a large message in its turn on the view's send lane
  (arcos/web/send_lane.py), so one event to many subscribers leaves other clients answered.
- A subscription that can share its execution joins its cohort (arcos/graphql/cohorts.py)
  and sends the cohort's payload text with its own id spliced around it; any other
  operation runs on its own, as strawberry runs it. While the operation runs, the cohort
  may write a small event straight to its socket (`direct_writer`) instead of waking it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncGenerator, Callable, Collection, Mapping
from contextlib import suppress
from typing import Any

from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
    _OperationStreamClosed,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import StartMessage
from strawberry.types.execution import ExecutionResult

from arcos.graphql.cohorts import (
    DirectWriter,
    Failed,
    Member,
    Outgoing,
    PreExecution,
    SubscriptionCohorts,
)
from arcos.graphql.errors import ErrorCode
from arcos.graphql.ws_messages import BadMessage, read_message
from arcos.web.connection_limits import TOO_MANY_CONNECTIONS, ConnectionRefused
from arcos.web.preencoded import encode
from arcos.web.send_lane import SendLane
from arcos.web.ws_protocol import BAD_MESSAGE, immediate_sender, writable_event

logger = logging.getLogger("arcos.graphql")

#: A close frame's reason is at most 123 bytes.
MAX_CLOSE_REASON_BYTES = 123


def refused_by_cap(
    handler: Any, operation_id: str, running: Collection[str]
) -> dict[str, Any] | None:
    """The error for starting `operation_id` when the connection already runs as many
    operations as ARCOS_MAX_SUBSCRIPTIONS_PER_CONNECTION allows (strawberry's handlers
    would close the whole socket instead); None when it may start. Restarting an id
    that runs is left to strawberry, which refuses it in the protocol's own way."""
    limit = handler.max_subscriptions_per_connection
    if (
        not handler.connection_acknowledged
        or limit is None
        or operation_id in running
        or len(running) < limit
    ):
        return None
    return cap_error(limit)


def cap_error(limit: int) -> dict[str, Any]:
    return {
        "message": f"this connection already runs {limit} operations, the limit "
        "(ARCOS_MAX_SUBSCRIPTIONS_PER_CONNECTION); complete one, or open another connection",
        "extensions": {"code": ErrorCode.TOO_MANY_OPERATIONS.value, "limit": limit},
    }


class ArcosWebSocketAdapter(ASGIWebSocketAdapter):
    async def send_json(self, message: Mapping[str, object]) -> None:
        """Encode `message` (pre-encoded values still unspliced), then splice and send it,
        in its turn on the send lane when it is large."""
        encoded = encode(message)
        await self._send(encoded.size, encoded.text)

    async def send_spliced(self, prefix: str, payload: str, suffix: str) -> None:
        """Send `prefix + payload + suffix` (a cohort's shared payload text with this
        operation's id around it), in its turn on the send lane when it is large. The
        message is built only inside its turn, so members waiting for the lane hold no
        copy of a large payload, only the one they share."""
        await self._send(
            len(prefix) + len(payload) + len(suffix), lambda: prefix + payload + suffix
        )

    def direct_writer(self, prefix: str, suffix: str) -> DirectWriter | None:
        """A writer of `prefix + payload + suffix` straight to the socket, for the cohort's
        task, while the calling operation's task runs: both protocols' handlers cancel it
        when the client completes the operation or goes away, and from that moment the
        writer declines. It also declines a message the send lane would take (large) and
        one the server cannot write at once. None when the server offers no immediate send
        (another ASGI server)."""
        send_now = immediate_sender(self.ws.scope)
        task = asyncio.current_task()
        if send_now is None or task is None:
            return None
        cancelling = task.cancelling
        lane: SendLane = self.view.send_lane  # type: ignore[attr-defined]  # ArcosGraphQL's
        room = lane.threshold - len(prefix) - len(suffix)

        def write(outgoing: Outgoing) -> bool:
            if len(outgoing.text) >= room or cancelling():
                return False
            return send_now(outgoing.message(prefix, suffix))

        return write

    async def _send(self, size: int, text: Callable[[], str]) -> None:
        lane: SendLane = self.view.send_lane  # type: ignore[attr-defined]  # ArcosGraphQL's

        async def send() -> None:
            await self.ws.send_text(text())

        try:
            await lane.send(size, send, writable_event(self.ws.scope))
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc

    async def iter_json(
        self, *, ignore_parsing_errors: bool = False
    ) -> AsyncGenerator[object, None]:
        """Each message, checked; the first one that fails the checks (or a binary frame, or
        a text frame that is not UTF-8: the server hands both over as bytes) closes the
        socket with 4400 and ends the stream. `ignore_parsing_errors` (the legacy protocol's
        habit of skipping bad JSON) is deliberately not honoured."""
        try:
            while self.ws.application_state == WebSocketState.CONNECTED:
                event = await self.ws.receive()
                if event["type"] == "websocket.disconnect":
                    return
                if event.get("text") is None:
                    raise BadMessage("messages must be UTF-8 text frames carrying JSON")
                yield read_message(event["text"])
        except BadMessage as bad:
            await self.close(BAD_MESSAGE, close_reason(bad.reason))
        except WebSocketDisconnect:  # pragma: no cover - receive() returns it as an event
            return


def close_reason(text: str) -> str:
    """`text` cut to fit a close frame."""
    encoded = text.encode()
    if len(encoded) <= MAX_CLOSE_REASON_BYTES:
        return text
    return encoded[: MAX_CLOSE_REASON_BYTES - 3].decode(errors="ignore") + "..."


async def join_cohort(
    handler: Any, query: Any, variables: Any, operation_name: Any
) -> Member | None:
    """The operation's place in its cohort, or None when it runs on its own."""
    cohorts: SubscriptionCohorts | None = getattr(handler.view, "cohorts", None)
    if cohorts is None or not isinstance(query, str):
        return None
    try:
        return await cohorts.join(handler.context, query, variables, operation_name)
    except Exception:  # a bug here must not cost the operation: it runs on its own
        logger.exception("could not join a subscription cohort")
        return None


class TransportWSHandler(BaseGraphQLTransportWSHandler[Any, Any]):
    async def run_operation(self, operation: Operation[Any, Any]) -> None:
        """Strawberry's, except that a subscription that can share its execution takes its
        results from its cohort (the same messages, ids spliced into shared bytes)."""
        member = await join_cohort(
            self, operation.query, operation.variables, operation.operation_name
        )
        if member is None:
            await super().run_operation(operation)
            return
        prefix = f'{{"id":{json.dumps(operation.id)},"type":"next","payload":'
        direct = self.websocket.direct_writer(prefix, "}")  # type: ignore[attr-defined]
        try:
            async for item in member.items(direct):
                if isinstance(item, str):
                    if operation.completed:
                        break
                    await self.websocket.send_spliced(prefix, item, "}")  # type: ignore[attr-defined]
                elif isinstance(item, PreExecution):
                    await self._handle_pre_execution_error(operation, item.result)
                elif isinstance(item, Failed):
                    await operation.send_next(ExecutionResult(data=None, errors=[item.error]))
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except _OperationStreamClosed:
            return
        except Exception as error:  # pragma: no cover - strawberry's handling, kept
            await self.handle_task_exception(error)
            with suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)
            raise
        finally:
            member.leave()

    async def handle_connection_init(self, message: Any) -> None:
        try:
            await super().handle_connection_init(message)
        except ConnectionRefused as refused:
            await self.websocket.close(TOO_MANY_CONNECTIONS, close_reason(refused.reason))

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        refusal = refused_by_cap(self, message["id"], self.operations)
        if refusal is not None:
            await self.send_message({"id": message["id"], "type": "error", "payload": [refusal]})
            return
        await super().handle_subscribe(message)


class LegacyWSHandler(BaseGraphQLWSHandler[Any, Any]):
    async def handle_connection_init(self, message: Any) -> None:
        try:
            await super().handle_connection_init(message)
        except ConnectionRefused as refused:
            await self.send_message({"type": "connection_error", "payload": {
                "message": refused.reason,
                "extensions": {"code": ErrorCode.RATE_LIMITED.value},
            }})
            await self.websocket.close(TOO_MANY_CONNECTIONS, close_reason(refused.reason))

    async def handle_start(self, message: StartMessage) -> None:
        refusal = refused_by_cap(self, message["id"], self.tasks)
        if refusal is not None:
            await self.send_message({"type": "error", "id": message["id"], "payload": refusal})
            return
        await super().handle_start(message)

    async def handle_async_results(
        self, operation_id: str, query: str, operation_name: str | None,
        variables: dict[str, object] | None,
    ) -> None:
        """Strawberry's, except that a subscription that can share its execution takes its
        results from its cohort (the same messages, ids spliced into shared bytes)."""
        member = await join_cohort(self, query, variables, operation_name)
        if member is None:
            await super().handle_async_results(operation_id, query, operation_name, variables)
            return
        prefix = f'{{"type":"data","id":{json.dumps(operation_id)},"payload":'
        direct = self.websocket.direct_writer(prefix, "}")  # type: ignore[attr-defined]
        try:
            async for item in member.items(direct):
                if isinstance(item, str):
                    await self.websocket.send_spliced(prefix, item, "}")  # type: ignore[attr-defined]
                elif isinstance(item, PreExecution):
                    assert item.result.errors
                    await self.send_message({
                        "type": "error", "id": operation_id,
                        "payload": item.result.errors[0].formatted,
                    })
                    return
                elif isinstance(item, Failed):
                    await self.send_data_message(
                        ExecutionResult(data=None, errors=[item.error]), operation_id
                    )
            await self.send_message({"type": "complete", "id": operation_id})
        except asyncio.CancelledError:
            await self.send_message({"type": "complete", "id": operation_id})
        finally:
            member.leave()
            self.subscriptions.pop(operation_id, None)
            self.tasks.pop(operation_id, None)
