"""Websocket protocol handlers that refuse operations past the per-connection cap with a
coded error naming the limit, instead of strawberry's bare "Subscription limit reached"."""

from __future__ import annotations

from typing import Any

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import StartMessage

from arcos.graphql.errors import ErrorCode


def cap_error(limit: int) -> dict[str, Any]:
    return {
        "message": f"this connection already runs {limit} operations, the limit "
        "(ARCOS_MAX_SUBSCRIPTIONS_PER_CONNECTION); complete one, or open another connection",
        "extensions": {"code": ErrorCode.TOO_MANY_OPERATIONS.value, "limit": limit},
    }


class TransportWSHandler(BaseGraphQLTransportWSHandler[Any, Any]):
    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        limit = self.max_subscriptions_per_connection
        if (
            self.connection_acknowledged
            and limit is not None
            and message["id"] not in self.operations
            and len(self.operations) >= limit
        ):
            await self.send_message(
                {"id": message["id"], "type": "error", "payload": [cap_error(limit)]}
            )
            return
        await super().handle_subscribe(message)


class LegacyWSHandler(BaseGraphQLWSHandler[Any, Any]):
    async def handle_start(self, message: StartMessage) -> None:
        limit = self.max_subscriptions_per_connection
        if (
            self.connection_acknowledged
            and limit is not None
            and message["id"] not in self.tasks
            and len(self.tasks) >= limit
        ):
            await self.send_message(
                {"type": "error", "id": message["id"], "payload": cap_error(limit)}
            )
            return
        await super().handle_start(message)
