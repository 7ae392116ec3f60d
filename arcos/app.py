"""create_app(settings) -> Starlette: the routes, the middleware and the store's lifetime."""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp
from tortoise import connections

from arcos.auth.rate_limit import InMemoryTokenBucket, WriteRateLimiter
from arcos.auth.service import bootstrap_admin_token
from arcos.broker import Broker, InMemoryBroker
from arcos.db import MIGRATIONS_PACKAGE, store
from arcos.domains import REGISTRY
from arcos.graphql.cohorts import SubscriptionCohorts
from arcos.graphql.context import AppServices
from arcos.graphql.core_schema import core_schema
from arcos.graphql.view import ArcosGraphQL
from arcos.metrics import ACTIVE_SUBSCRIPTIONS
from arcos.registry import AppService, Registry
from arcos.rest import body_schema
from arcos.rest.adapter import RestAdapter
from arcos.rest.operations import load_operations
from arcos.rest.routes import rest_routes
from arcos.schema import create_schema
from arcos.settings import Settings, redacted_url
from arcos.shared_state import shared_redis as shared_redis_of
from arcos.startup_collector import end_startup_pause
from arcos.store.housekeeping import Housekeeping, Sweep
from arcos.store.outbox import forget_before
from arcos.store.unit_of_work import Writer
from arcos.web.body_limit import BodySizeLimit
from arcos.web.browser.dashboard import dashboard_routes
from arcos.web.browser.graphiql import graphiql_routes
from arcos.web.connection_limits import ConnectionLimits
from arcos.web.deferred_imports import import_in_background
from arcos.web.json_threads import JsonThreads
from arcos.web.observability import RequestMetrics, metrics, ready
from arcos.web.parse_pool import ParsePool
from arcos.web.request_ids import RequestIds
from arcos.web.shutdown import DRAINING_STATE, Draining
from arcos.web.worker_metrics import gauge_from

if TYPE_CHECKING:
    from arcos.shared_state.redis_state import SharedRedis

logger = logging.getLogger("arcos")


async def health(request: Request) -> JSONResponse:
    """Liveness plus a round trip to the store, for load balancers and start-up waits.

    Also reports the live subscription count, so operators (and the disconnect tests) can
    see subscriptions being released, and `warm`: whether the modules left out of start-up
    (arcos/web/deferred_imports.py) are imported yet. The server answers everything before
    that; memory measurements wait for it, since those imports grow the heap once.
    """
    await connections.get("default").execute_query("SELECT 1")
    count = subscription_count(request.app.state.broker, request.app.state.cohorts)
    warming = getattr(request.app.state, "deferred_imports", None)
    warm = warming is None or not warming.is_alive()
    return JSONResponse({"status": "ok", "subscriptions": count, "warm": warm})


def subscription_count(broker: Broker, cohorts: SubscriptionCohorts) -> int:
    """Live subscriptions: members of a cohort count as if each held the cohort's broker
    subscriptions itself."""
    return broker.subscriber_count() + cohorts.shared_subscriptions()


class ArcosApp(Starlette):
    """Starlette with the request-id middleware outside everything, its 500 handler
    included, so every answer carries X-Request-ID and every log line the request's id."""

    def build_middleware_stack(self) -> ASGIApp:
        return RequestIds(super().build_middleware_stack())


def create_app(
    settings: Settings | None = None,
    broker: Broker | None = None,
    rate_limiter: WriteRateLimiter | None = None,
    registry: Registry = REGISTRY,
) -> Starlette:
    """The ASGI app serving `registry`'s domains. The store opens when the lifespan starts
    and closes when it ends."""
    settings = settings or Settings.from_env()
    broker = broker or default_broker(settings)
    shared_redis = shared_redis_of(settings)
    rate_limiter = rate_limiter or _rate_limiter(settings, shared_redis)
    schema = create_schema(settings, registry)
    connection_limits = ConnectionLimits(settings)
    parse_pool = ParsePool(settings.parse_workers, settings.parse_queue)
    json_threads = JsonThreads(settings.json_threads, settings.json_thread_min_bytes)
    writer = Writer(broker, registry.topics)
    housekeeping = Housekeeping([*registry.sweeps(settings), outbox_sweep(settings)])
    services = AppServices(
        settings=settings, broker=broker, writer=writer, rate_limiter=rate_limiter,
        connection_limits=connection_limits, parse_pool=parse_pool, json_threads=json_threads,
        scopes=registry.scopes, shared_redis=shared_redis,
    )
    for factory in registry.service_factories:
        services.domain_services[factory.name] = factory.build(services)
    graphql = ArcosGraphQL(schema, services)
    rest = RestAdapter(
        schema, load_operations(core_schema(schema), registry.rest_documents), services
    )
    draining = Draining()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Draining]]:
        async with store(settings, registry=registry):
            logger.info("ARCOS ready: store %s", redacted_url(settings.database_url))
            await broker.start()  # after the store: the shared broker reads the outbox
            if settings.bootstrap_admin:
                await _print_first_admin_token(settings, writer)
            housekeeping.start()
            try:
                async with gauge_from(
                    ACTIVE_SUBSCRIPTIONS, lambda: subscription_count(broker, graphql.cohorts)
                ), _domain_services(services.domain_services):
                    # `arcos serve` kept the collector paused through start-up; what it
                    # built is frozen now (arcos/startup_collector.py).
                    end_startup_pause()
                    app.state.deferred_imports = import_in_background(
                        (*body_schema.DEFERRED_IMPORTS, *registry.deferred_imports)
                    )
                    # The lifespan state reaches every connection uvicorn makes, so its
                    # protocols can tell the app when shutdown begins (web/shutdown.py).
                    yield {DRAINING_STATE: draining}
            finally:
                await housekeeping.stop()
                parse_pool.close()
                json_threads.close()
                await broker.close()
                if shared_redis is not None:
                    await shared_redis.close()

    app = ArcosApp(
        routes=[
            # PUT/DELETE/PATCH are routed so they get a JSON 405 rather than Starlette's text.
            Route("/graphql", graphql, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", health),
            Route("/readyz", ready),
            Route("/metrics", metrics),
            *graphiql_routes(settings),
            *dashboard_routes(),
            *registry.http_routes(rest),
            *rest_routes(rest, graphql, registry),
        ],
        middleware=[Middleware(RequestMetrics), Middleware(
            BodySizeLimit,
            max_bytes=settings.max_body_bytes,
            prefix_limits=registry.body_limits(settings),
        )],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.migrations_package = MIGRATIONS_PACKAGE  # /readyz checks the store against it
    app.state.services = services
    app.state.broker = broker
    app.state.writer = writer
    app.state.housekeeping = housekeeping
    app.state.schema = schema
    app.state.rate_limiter = rate_limiter
    app.state.connection_limits = connection_limits
    app.state.cohorts = graphql.cohorts
    app.state.draining = draining
    return app


def default_broker(settings: Settings) -> Broker:
    """The in-process broker, or the shared one on Redis when ARCOS_BROKER_URL names it
    (imported only then: a single server never loads the Redis client)."""
    if not settings.broker_url:
        return InMemoryBroker(queue_size=settings.subscriber_queue_size)
    from arcos.redis_broker import RedisBroker

    return RedisBroker(settings)


def _rate_limiter(settings: Settings, shared_redis: SharedRedis | None) -> WriteRateLimiter:
    """One budget per principal and deployment: in Redis when instances share one, else in
    this process (which is then the whole deployment)."""
    if shared_redis is not None:
        from arcos.auth.redis_rate_limit import RedisTokenBucket  # with the redis client

        return RedisTokenBucket(
            shared_redis, settings.write_rate_per_minute, settings.write_burst
        )
    return InMemoryTokenBucket(settings.write_rate_per_minute, settings.write_burst)


@asynccontextmanager
async def _domain_services(running: dict[str, AppService]) -> AsyncIterator[None]:
    """Start the domains' app services in order; close those started, in reverse, however
    the app's life ends (a failed start included)."""
    async with AsyncExitStack() as stack:
        for service in running.values():
            await service.start()
            stack.push_async_callback(service.close)
        yield


def outbox_sweep(settings: Settings) -> Sweep:
    """The store's own retention job: events past ARCOS_OUTBOX_RETENTION_HOURS."""
    retention = timedelta(hours=settings.outbox_retention_hours)
    return Sweep("outbox", lambda: forget_before(datetime.now(UTC) - retention))


async def _print_first_admin_token(settings: Settings, writer: Writer) -> None:
    """Like Jupyter's token: on first start, print the one way in, once."""
    issued = await bootstrap_admin_token(writer)
    if issued is None:
        return
    url = f"http://{settings.host}:{settings.port}/graphql"
    banner = (
        "\n"
        "    ARCOS created the first admin token. It is shown only this once:\n\n"
        f"        {issued.secret}\n\n"
        "    Use it as a bearer token, e.g.\n"
        f"        curl -H 'Authorization: Bearer {issued.secret}' \\\n"
        "             -H 'Content-Type: application/json' \\\n"
        f"             -d '{{\"query\": \"{{ viewer {{ name scopes }} }}\"}}' {url}\n"
        "    In GraphiQL, add it in the Headers pane:\n"
        f"        {{\"Authorization\": \"Bearer {issued.secret}\"}}\n"
        "    Create narrower tokens with `arcos token create --name NAME --scope SCOPE`.\n"
    )
    print(banner, file=sys.stderr, flush=True)


def app_from_environment() -> Starlette:
    """Factory uvicorn imports (`arcos serve` hands its settings over as ARCOS_* variables)."""
    return create_app(Settings.from_env())


