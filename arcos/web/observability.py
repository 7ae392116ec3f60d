"""/readyz, /metrics and the middleware that counts every HTTP request.

/healthz (arcos/app.py) says the process is alive; /readyz says whether it should get
traffic: the store answers, the broker is usable, the store has every table this code's
models need and its migrations are current (arcos/store/schema_history.py: one catalogue
query and one on the small history table, cheap enough for every probe).

A store *behind* the code (a migration this code ships is not applied) is not ready: the
code would query columns that are not there. A store *ahead* of a running instance (a
newer instance migrated it during a rolling deploy) does not make the older instance
unready: taking every old instance out of rotation the moment the first new one starts
would empty the pool, and migrations are written so the previous release keeps working
on them. Such an instance refuses to start again, though (arcos/db.py).

/metrics serves the Prometheus registry of arcos/metrics.py (every worker's, merged, under
`--workers`: arcos/web/worker_metrics.py), only when a setting allows it (a bearer token, or
loopback clients), since the counts describe usage.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from arcos.metrics import HTTP_LATENCY, HTTP_REQUESTS, UNMATCHED_ROUTE
from arcos.settings import Settings, env_name

# store_history's read of the tables and applied migrations is also the trivial query
# proving the store answers.
from arcos.store.migrator import store_history
from arcos.store.schema_history import SchemaState
from arcos.web.worker_metrics import exposition

logger = logging.getLogger("arcos.readiness")

#: How long /readyz waits for the store before it calls it not ready: a load balancer's
#: probe must get an answer, and a store slower than this is not ready for traffic either.
READY_TIMEOUT_SECONDS = 2.0
#: Clients /metrics serves under ARCOS_METRICS_ALLOW_LOOPBACK.
LOOPBACK = frozenset({"127.0.0.1", "::1"})
#: Methods counted under their own name; any other token a client sends counts as "other".
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


async def ready(request: Request) -> JSONResponse:
    """200 {"status": "ready"} when every check passes; 503 naming each one that failed."""
    problems: dict[str, str] = {}
    try:
        history = await asyncio.wait_for(
            store_history(request.app.state.migrations_package), READY_TIMEOUT_SECONDS
        )
    except TimeoutError:
        problems["store"] = f"the store did not answer within {READY_TIMEOUT_SECONDS} s"
    except Exception:  # any driver's failure means the same thing here
        # The driver's text can name the host, user and database: it goes to the log,
        # not to an unauthenticated caller.
        logger.warning("/readyz: the store did not answer", exc_info=True)
        problems["store"] = "the store did not answer (the server log says why)"
    else:
        missing = sorted(history.model_tables - history.tables)
        if missing:
            problems["schema"] = (
                "the store lacks tables this code needs (restart the server or run "
                f"`arcos migrate` to create them): {', '.join(missing)}"
            )
        if history.state not in (SchemaState.CURRENT, SchemaState.AHEAD):
            problems["migrations"] = history.describe()
    broker_problem = getattr(request.app.state.broker, "unusable", lambda: None)()
    if broker_problem:
        problems["broker"] = broker_problem
    if problems:
        return JSONResponse({"status": "not ready", "problems": problems}, status_code=503)
    return JSONResponse({"status": "ready"})


async def metrics(request: Request) -> Response:
    """The Prometheus exposition of arcos/metrics.py's registry, to allowed scrapers only."""
    settings: Settings = request.app.state.settings
    refusal = _refuse_scrape(request, settings)
    if refusal is not None:
        return refusal
    return Response(exposition(), media_type=CONTENT_TYPE_LATEST)


def _refuse_scrape(request: Request, settings: Settings) -> JSONResponse | None:
    """Why this request may not read /metrics, as a response; None when it may."""
    token_name, loopback_name = env_name("metrics_token"), env_name("metrics_allow_loopback")
    if not settings.metrics_token and not settings.metrics_allow_loopback:
        return _problem(404, f"/metrics is off: set {token_name} (scrapers send it as a "
                        f"bearer token) or {loopback_name}=true to serve it")
    client = request.client.host if request.client else ""
    if settings.metrics_allow_loopback and client in LOOPBACK:
        return None
    if not settings.metrics_token:
        return _problem(403, f"/metrics is served to loopback clients only ({loopback_name}); "
                        f"set {token_name} to let others scrape with a bearer token")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), settings.metrics_token.encode()
    ):
        return None
    return _problem(401, f"/metrics needs 'Authorization: Bearer <{token_name}>'")


def _problem(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"error": detail}, status_code=status)


class RequestMetrics:
    """Counts every HTTP request by route template and status and times it, in ASGI terms
    so streaming responses pass through untouched: one dict lookup and two metric updates
    per request. Websockets are counted by the GraphQL view, not here."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering
        timed = False

        async def record_status(message: Message) -> None:
            nonlocal status, timed
            if message["type"] == "http.response.start":
                status = message["status"]
                timed = True
                HTTP_LATENCY.labels(_route(scope)).observe(time.perf_counter() - started)
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            if not timed:  # the app raised before answering: its 500 took this long
                HTTP_LATENCY.labels(_route(scope)).observe(time.perf_counter() - started)
            method = scope["method"] if scope["method"] in METHODS else "other"
            HTTP_REQUESTS.labels(_route(scope), method, str(status)).inc()


def _route(scope: dict[str, Any]) -> str:
    """The template of the route that served `scope` (Starlette records it), never the
    raw path, so ids in paths do not make new series."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE
