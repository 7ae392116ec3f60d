"""create_app(settings) -> Starlette: the routes, the middleware and the store's lifetime."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from tortoise import connections

from arcos.broker import Broker, InMemoryBroker
from arcos.db import store
from arcos.graphql.view import ArcosGraphQL
from arcos.schema import create_schema
from arcos.settings import Settings
from arcos.web.body_limit import BodySizeLimit

logger = logging.getLogger("arcos")


async def health(request: Request) -> JSONResponse:
    """Liveness plus a round trip to the store, for load balancers and start-up waits.

    Also reports the live subscription count, so operators (and the disconnect tests) can
    see subscriptions being released.
    """
    await connections.get("default").execute_query("SELECT 1")
    broker: Broker = request.app.state.broker
    return JSONResponse({"status": "ok", "subscriptions": broker.subscriber_count()})


def create_app(settings: Settings | None = None, broker: Broker | None = None) -> Starlette:
    """The ASGI app. The store opens when the lifespan starts and closes when it ends."""
    settings = settings or Settings.from_env()
    broker = broker or InMemoryBroker(queue_size=settings.subscriber_queue_size)
    schema = create_schema(settings)
    graphql = ArcosGraphQL(schema, settings, broker)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with store(settings):
            logger.info("ARCOS ready: store %s", _redacted(settings.database_url))
            try:
                yield
            finally:
                await broker.close()

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST", "HEAD", "PUT", "DELETE", "PATCH"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", health),
        ],
        middleware=[Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.broker = broker
    app.state.schema = schema
    return app


def app_from_environment() -> Starlette:
    """Factory uvicorn imports (`arcos serve` hands its settings over as ARCOS_* variables)."""
    return create_app(Settings.from_env())


def _redacted(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        credentials, _, host = rest.rpartition("@")
        user = credentials.split(":")[0]
        return f"{scheme}{sep}{user}:***@{host}"
    return url
